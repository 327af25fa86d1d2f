FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Exactly what requirements.lock pins (`make lock`), each file checked against its hash.
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
# .dockerignore keeps .env, var/ and the virtualenv out of the image.
COPY . .
# Static files are collected into the image, compressed and with hashed names (WhiteNoise serves them). Settings
# refuse to load without these variables; they live only for this one command, never in ENV (the Fernet key is a
# throwaway made here, since production settings accept only real keys).
RUN DEBUG=0 SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost SITE_URL=https://localhost \
        FERNET_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
        REDIS_URL=redis://localhost:6379/0 DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
        python manage.py collectstatic --no-input \
    && useradd --create-home app && mkdir -p /app/var && chown app /app/var
USER app
EXPOSE 8000
# gunicorn.conf.py: WEB_CONCURRENCY workers on PORT (default 8000), JSON logs.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "acoustic.wsgi"]
