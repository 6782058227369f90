# One image for the bot, the push server and the worker; the command picks the role.
# Pinned by digest (the official image as recorded by docker-library/repo-info); renew with the tag.
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# ffmpeg decodes voice messages. Nothing else: the health checks are `zhiban health`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Dependencies first, each pinned with its sha256 (`make lock`): a tampered or substituted
# package fails the build. This layer is reused while requirements.lock is unchanged.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot bot
COPY commands commands
COPY emergency emergency
COPY notifications notifications
COPY records records
COPY server server
COPY timeparse timeparse
COPY voice voice
COPY zhiban zhiban
# Zhiban itself, with nothing else fetched: its dependencies and build backend came from the lock.
RUN pip install --no-deps --no-build-isolation .

# The data folder holds the database, the bot's keys and session: its owner only.
RUN useradd --create-home --uid 1000 zhiban && mkdir -p -m 0700 /data && chown zhiban /data
USER zhiban
ENV ZHIBAN_DATA_DIR=/data ZHIBAN_CONFIG=/config/zhiban.toml
VOLUME ["/data"]
ENTRYPOINT ["zhiban"]
CMD ["--help"]
