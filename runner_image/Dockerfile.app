# The application image (`csvanalyst serve`) for machines that can reach a registry:
#   docker build -f runner_image/Dockerfile.app -t csvanalyst-app .   (from the repository root)
# Without a registry, `csvanalyst deploy image` builds the same final stage on the runner image's Debian
# base with wheels fetched on the host (see Dockerfile.app.offline).
# It listens on 0.0.0.0 and so refuses to start without a token: pass CSVANALYST_TOKEN at run time.
ARG BASE=python:3.11-slim
FROM ${BASE} AS deps
COPY pyproject.toml README.md /src/
COPY csvanalyst /src/csvanalyst
COPY datasets /src/datasets
RUN python3 -m pip wheel --no-cache-dir --no-deps -w /wheels /src \
    && python3 -m pip install --no-cache-dir --no-compile --target /site "$(ls /wheels/csvanalyst-*.whl)[kubernetes]" \
    && mkdir /app && mv /site/csvanalyst /site/csvanalyst-*.dist-info /app/ \
    && rm -rf /site/bin /site/pandas/tests

FROM ${BASE}
# --- final stage: identical in Dockerfile.app and Dockerfile.app.offline ---
COPY --from=deps /site /opt/csvanalyst/site
COPY --from=deps /app /opt/csvanalyst/app
# A .pth file rather than PYTHONPATH: sandboxed runs start the interpreter with a clean environment and
# still need the engine. The only writable places at run time are volumes: the home and /tmp.
RUN python3 -c "import os, site; d = site.getsitepackages()[0]; os.makedirs(d, exist_ok=True); \
open(os.path.join(d, 'csvanalyst.pth'), 'w').write('/opt/csvanalyst/app\\n/opt/csvanalyst/site\\n')" \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/csvanalyst \
    && printf '#!/bin/sh\nexec python3 -s -m csvanalyst "$@"\n' > /usr/local/bin/csvanalyst \
    && chmod 0755 /usr/local/bin/csvanalyst
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    HOME=/var/lib/csvanalyst \
    CSVANALYST_HOME=/var/lib/csvanalyst \
    TMPDIR=/tmp
VOLUME ["/var/lib/csvanalyst", "/tmp"]
WORKDIR /var/lib/csvanalyst
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["python3", "-s", "-m", "csvanalyst", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8000"]
