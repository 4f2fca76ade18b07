#!/bin/bash
# Installs the peer that `npm run bench:peers` compares cellgate with:
# Debian's Jupyter Server and the Python kernel (jupyter-server,
# python3-ipykernel). Run it as root (or with sudo) on a Debian/Ubuntu host;
# running it again does nothing new.
#
#   sudo scripts/install-jupyter.sh
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-jupyter.sh: run as root (sudo $0)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends jupyter-server python3-ipykernel

# bench/jupyter-server.ts starts /usr/bin/jupyter-server with the system Python, so
# check that pair (not whatever python3 comes first in PATH) sees the kernel.
/usr/bin/python3 -c 'import jupyter_server, ipykernel' 
echo "jupyter-server $(/usr/bin/python3 -c 'import jupyter_server; print(jupyter_server.__version__)') and ipykernel $(/usr/bin/python3 -c 'import ipykernel; print(ipykernel.__version__)') installed"
