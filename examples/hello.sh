#!/bin/sh
# Greets the name given in the request body and returns a JSON result between ^JSON lines.
# EXTRA_VARS contains the request body, and /etc/secret contains the runner's and the task's secrets.
set -eu

name=$(printf '%s' "${EXTRA_VARS:-}" | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p')
name=${name:-world}

echo "Hello, ${name}!"
echo "Working directory: $(pwd)"
echo "Secret files: $(ls /etc/secret 2>/dev/null | tr '\n' ' ')"

echo '^JSON'
printf '{"greeting": "Hello, %s!", "secret_count": %s}\n' "$name" "$(ls /etc/secret 2>/dev/null | wc -l)"
echo '^JSON'
