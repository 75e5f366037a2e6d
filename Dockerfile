FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY reports ./reports
COPY scheduler ./scheduler
RUN pip install --no-cache-dir .

EXPOSE 8000
CMD ["sh", "-c", "zhongshu db upgrade && zhongshu serve --host 0.0.0.0 --port 8000 --workers ${SERVER_WORKERS:-2}"]
