# One image for the bot, the push server and the worker; the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY commands commands
COPY emergency emergency
COPY notifications notifications
COPY records records
COPY server server
COPY voice voice
COPY zhiban zhiban
RUN pip install '.[voice]'

RUN useradd --create-home --uid 1000 zhiban && mkdir -p /data && chown zhiban /data
USER zhiban
ENV ZHIBAN_DATA_DIR=/data ZHIBAN_CONFIG=/config/zhiban.toml
VOLUME ["/data"]
ENTRYPOINT ["zhiban"]
CMD ["--help"]
