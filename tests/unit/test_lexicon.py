"""Tests for the company lexicon: keys, abbreviations, tokenizer and build cost."""

import time

import jieba

from bot.understanding.lexicon import CustomerEntry, Lexicon, ProductEntry, UserEntry, match_key

UNITS = {"吨": ["吨", "t"], "方": ["方", "立方"], "平方米": ["平方米", "平米", "平方"]}


def make_lexicon(customers=None, products=None):
    customers = customers or [
        CustomerEntry(1, "宁波港城混凝土有限公司", ("港城混凝土",)),
        CustomerEntry(2, "芜湖长江管桩有限公司", ("长江管桩",)),
    ]
    products = products or [ProductEntry(10, "P.O 42.5普通硅酸盐水泥", ("P.O 42.5", "PO42.5"), "吨")]
    return Lexicon(
        customers=customers,
        products=products,
        competitors=["海螺"],
        users=[UserEntry("wuhao", "吴昊", "技术部")],
        units=UNITS,
        company_name="华东示例建材股份有限公司",
    )


def test_match_key_folds_spaces_dots_case():
    assert match_key("P.O 42.5") == "po425"
    assert match_key("ＰＯ４２．５") == "po425"
    assert match_key("p.o42.5") == match_key("PO42.5")


def test_core_abbreviation_is_derived():
    lexicon = make_lexicon()
    key = lexicon.customer_keys["港城"]
    assert key.derived
    assert key.customer_indexes == (0,)


def test_common_word_abbreviation_is_skipped():
    lexicon = make_lexicon()
    assert "长江" not in lexicon.customer_keys
    assert "长江管桩" in lexicon.customer_keys


def test_region_alone_is_no_abbreviation():
    lexicon = make_lexicon()
    assert "宁波" not in lexicon.customer_keys
    assert "芜湖" not in lexicon.customer_keys


def test_shared_abbreviation_lists_every_customer():
    lexicon = make_lexicon(customers=[
        CustomerEntry("a", "苏州恒达建材有限公司"),
        CustomerEntry("b", "南京恒达建设有限公司"),
    ])
    assert lexicon.customer_keys["恒达"].customer_indexes == (0, 1)


def test_own_company_is_no_customer_key():
    lexicon = make_lexicon(customers=[CustomerEntry(1, "华东示例建材股份有限公司")])
    assert match_key("华东示例建材股份有限公司") in lexicon.own_company_keys


def test_units_map_to_canonical_spelling():
    lexicon = make_lexicon()
    assert lexicon.canonical_unit("平米") == "平方米"
    assert lexicon.canonical_unit("t") == "吨"
    assert lexicon.canonical_unit("箱") is None


def test_tokenizer_is_private_and_knows_names():
    lexicon = make_lexicon()
    assert lexicon.tokenizer is not jieba.dt
    assert "港城混凝土" in lexicon.tokenize("去港城混凝土拜访")
    assert "港城混凝土" not in jieba.dt.FREQ


def test_from_world_uses_list_indexes():
    world = {
        "company": "华东示例建材股份有限公司",
        "users": [{"userid": "wuhao", "name": "吴昊", "department": "技术部"}],
        "customers": [{"name": "苏州恒达建材有限公司", "aliases": ["恒达"]}],
        "products": [{"name": "干混砂浆", "aliases": ["砂浆"], "unit": "吨"}],
        "competitors": ["海螺"],
        "units": UNITS,
    }
    lexicon = Lexicon.from_world(world)
    assert lexicon.customers[0].id == 0
    assert lexicon.products[0].id == 0
    assert lexicon.users[0].department == "技术部"


def test_rebuild_is_cheap():
    make_lexicon()
    started = time.perf_counter()
    make_lexicon()
    elapsed = time.perf_counter() - started
    # A rebuild copies the shared base dictionary (about 10-40 ms on a 2-core test machine).
    assert elapsed < 0.5
