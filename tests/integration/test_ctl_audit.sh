#!/bin/bash
# `ra-ctl audit verify` only reads the ledger: it never creates, migrates or writes one.
. "$(dirname "$0")/lib.sh"

ra_deploy 0
sed -e "s#^  db: ra.db#  db: $T/absent/ra.db#" "$DEP/ra.yaml" > "$T/absent.yaml"
mkdir -p "$T/absent"
check_fails "audit verify of a missing ledger fails" ra-ctl -c "$T/absent.yaml" audit verify
[ ! -e "$T/absent/ra.db" ] && ok "audit verify does not create a ledger" || fail "audit verify does not create a ledger" "$(ls -l "$T/absent")"
sum=$(sha256sum "$DEP/ra.db")
check "audit verify of the deployment's ledger" ra-ctl audit verify
[ "$(sha256sum "$DEP/ra.db")" = "$sum" ] && ok "audit verify leaves ra.db as it was" || fail "audit verify leaves ra.db as it was"
sql "$DEP/ra.db" "PRAGMA user_version = 1"
check "audit verify reads a ledger of an older schema version" ra-ctl audit verify
[ "$(sql "$DEP/ra.db" "PRAGMA user_version")" = 1 ] && ok "audit verify ran no migration" || fail "audit verify ran no migration"
