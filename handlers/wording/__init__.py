"""Chinese reply texts, one module per area, so tone stays consistent and tests can assert them."""
