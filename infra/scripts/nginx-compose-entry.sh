#!/bin/sh
# The compose stack's nginx: renders infra/nginx.conf for the containers (listen on 80, upstreams
# gateway-1 and gateway-2) and runs it in the foreground with every path under /tmp/nginx.
set -eu
UPSTREAMS="${UPSTREAMS:-gateway-1:8080 gateway-2:8080}"
mkdir -p /tmp/nginx/logs /tmp/nginx/temp
servers=""
for u in $UPSTREAMS; do servers="${servers}    server ${u} max_fails=1 fail_timeout=5s;\\n"; done
sed -e 's/^\([[:space:]]*\)listen .*# listen$/\1listen 80;/' \
    -e "/^[[:space:]]*# upstreams:begin\$/,/^[[:space:]]*# upstreams:end\$/c\\
${servers}" \
    /etc/switchboard/nginx.conf > /tmp/nginx/nginx.conf
exec nginx -p /tmp/nginx -c /tmp/nginx/nginx.conf -g 'daemon off; pid /tmp/nginx/nginx.pid;'
