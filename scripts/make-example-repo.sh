#!/bin/sh
# Turns examples/ into a git repository in examples-repo/ and prints its file:// URL.
set -eu
cd "$(dirname "$0")/.."
target="$(pwd)/examples-repo"

rm -rf "$target"
mkdir -p "$target"
cp -R examples/. "$target/"
git -C "$target" init --quiet --initial-branch=main
git -C "$target" add .
git -C "$target" -c user.name=Kriten -c user.email=kriten@localhost commit --quiet -m "Add example scripts"

echo "file://$target"
