#!/bin/sh
# Install the pinned socket.io client from npm (package-lock.json) and copy its
# browser build to web/static/vendor/, where widget.js loads it from.
# Run from anywhere: sh web/widget/build.sh  (or: npm run build in web/widget).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
vendor="$here/../static/vendor"
cd "$here"
if [ ! -f node_modules/socket.io-client/dist/socket.io.min.js ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p "$vendor"
cp node_modules/socket.io-client/dist/socket.io.min.js "$vendor/socket.io.min.js"
touch "$vendor/.stamp"
echo "widget: socket.io client $(node -p "require('socket.io-client/package.json').version") -> $vendor"
