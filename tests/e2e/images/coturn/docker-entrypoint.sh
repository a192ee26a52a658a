#!/bin/bash
# coturn/coturn's contract: arguments that start with an option are handed to turnserver.
if [ "${1:0:1}" = '-' ]; then
  set -- turnserver "$@"
fi
exec "$@"
