#!/bin/sh
# The installed `hashall` (package.json bin): takes the extra-CA bundle off node's start, then becomes node running hashall.cjs beside it.
#
# Node parses the whole file NODE_EXTRA_CA_CERTS names before any code runs (a system bundle: ~50-90 ms of every
# command). hashall needs it only for an HTTPS connection, so it travels as HASHALL_EXTRA_CA_CERTS and is read then
# (src/clients/extra-ca.ts). POSIX sh (dash, busybox ash): no bash, no `env -S`. `exec`: node is this process — exit
# code, signals, stdin and the terminal are its own.
if [ -n "${NODE_EXTRA_CA_CERTS-}" ]; then
  HASHALL_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  export HASHALL_EXTRA_CA_CERTS
fi
unset NODE_EXTRA_CA_CERTS
# This file's own folder, through npm's bin symlink (node_modules/.bin/hashall, /usr/local/bin/hashall -> ...).
self=$0
case $self in
  */*) ;;
  *) if [ -f "$self" ]; then self=./$self; else self=$(command -v "$self"); fi ;;
esac
[ -L "$self" ] && self=$(readlink -f -- "$self")
exec node "${self%/*}/hashall.cjs" "$@"
