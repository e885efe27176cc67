# DirecT2V Studio on an NVIDIA GPU:
#   docker build -t direct2v . && docker run --gpus all -p 7860:7860 direct2v
# Model weights download on first start into /home/user/.cache/huggingface (mount a volume
# there to keep them): docker run --gpus all -p 7860:7860 -v hf:/home/user/.cache/huggingface direct2v
FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# Ubuntu 24.04 already has uid 1000 ("ubuntu"); reuse it under our own name.
RUN (userdel -r ubuntu 2>/dev/null || true) && useradd -m -u 1000 -s /bin/bash user \
 && python3 -m venv /opt/venv && chown -R user:user /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/user \
    HF_HOME=/home/user/.cache/huggingface \
    GRADIO_SERVER_NAME=0.0.0.0 \
    DIRECT2V_HOST=0.0.0.0 \
    DIRECT2V_PORT=7860

USER user
WORKDIR /home/user/app

# Dependencies first so code changes don't reinstall them. On Linux x86_64 PyPI's torch is
# the CUDA build, which brings its own CUDA libraries.
COPY --chown=user:user requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=user:user . .

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)"
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860"]
