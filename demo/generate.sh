#!/bin/sh
# Regenerates demo/gen from demo/proto: TypeScript schemas (protoc-gen-es) and
# demo/gen/descriptors.binpb, a binary FileDescriptorSet including imports, for tools
# that need descriptors at run time. Uses the locally installed buf and protoc-gen-es.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/../node_modules/.bin"
if [ ! -x "$bin/buf" ] || [ ! -x "$bin/protoc-gen-es" ]; then
  echo "generate.sh: buf or protoc-gen-es missing in node_modules/.bin; run npm install at the project root first" >&2
  exit 1
fi
cd "$here"
rm -rf gen
PATH="$bin:$PATH" buf generate --template buf.gen.yaml
PATH="$bin:$PATH" buf build -o gen/descriptors.binpb
echo "generated $(find gen -type f | wc -l) files in $here/gen"
