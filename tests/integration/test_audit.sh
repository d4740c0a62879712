#!/bin/bash
# The audit chain cannot be rewritten quietly: ca-signer signs its head at intervals
# (checkpoints in ra.db), and `ra-ctl audit verify` finds a changed row, a chain changed
# and recomputed from there on, and rows cut from its tail before the last checkpoint.
# Each tampering is done on the stopped deployment, as someone who can write ra.db would
# (dropping the append-only triggers), and undone from a copy before the next.
. "$(dirname "$0")/lib.sh"
ra_deploy 0
printf 'audit:\n  checkpoint_rows: 5\n' >>"$RA_CONFIG"
ra-ctl -c "$RA_CONFIG" up --workers 1 >/dev/null || { fail "ra-ctl up"; exit 1; }
ra_officers
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[12].yaml || { fail "two registrations"; exit 1; }
make_csr s1; make_csr e1
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null ||
	fail "certificates"
n=$(sql "$DEP/ra.db" "SELECT count(*) FROM audit_checkpoints")
[ "$n" -ge 2 ] && ok "the workers had ca-signer sign the audit head ($n checkpoints)" || fail "checkpoints" "$n"
[ "$(sql "$DEP/ra.db" "SELECT DISTINCT v FROM audit")" = 2 ] && ok "new audit rows use the length-prefixed encoding (v2)" ||
	fail "v2 rows" "$(sql "$DEP/ra.db" "SELECT DISTINCT v FROM audit")"
out=$(ra-ctl audit verify 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "signed checkpoint" && ok "audit verify: chain and checkpoints hold" || fail "verify" "$out"
ra-ctl down >/dev/null
sqlite3 "$DEP/ra.db" ".backup '$T/ra.good'"
restore() { rm -f "$DEP/ra.db-wal" "$DEP/ra.db-shm"; cp "$T/ra.good" "$DEP/ra.db"; }
last=$(sql "$DEP/ra.db" "SELECT max(rows) FROM audit_checkpoints")
total=$(sql "$DEP/ra.db" "SELECT count(*) FROM audit")

# recompute DB FROM-ID: rewrite every hash from row FROM-ID on (encoding v2), as a writer
# of ra.db who knows the format would after changing a row.
recompute() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER IF EXISTS audit_no_update")
def field(v):
    if v is None:
        return b"\0"
    b = str(v).encode()
    return b"\1" + struct.pack(">Q", len(b)) + b
rows = db.execute("SELECT id, at, actor, action, object, before, after, prev_hash FROM audit WHERE id >= ? ORDER BY id", (int(sys.argv[2]),)).fetchall()
prev = rows[0][7]
for r in rows:
    h = hashlib.sha256(b"ra audit v2" + field(prev) + field(r[1]) + b"".join(field(x) for x in r[2:7])).hexdigest()
    db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, h, r[0]))
    prev = h
db.commit()
PY
}
row=$(sql "$DEP/ra.db" "SELECT min(id) FROM audit WHERE action = 'cert.issued'")

# 1. A row changed in place.
sql "$DEP/ra.db" "DROP TRIGGER audit_no_update; UPDATE audit SET after = 'revoked' WHERE id = $row"
out=$(ra-ctl audit verify 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "BROKEN at row $row" && ok "a changed row is found and named (row $row)" || fail "changed row" "$out"
# 2. The same change with the chain recomputed from there on: the chain is consistent
#    again, but no longer the one ca-signer signed.
recompute "$DEP/ra.db" "$row"
out=$(ra-ctl audit verify 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "rewritten" && ok "a rewritten and recomputed chain is found by its checkpoints" ||
	fail "recomputed chain" "$out"
restore
# 3. Rows cut from the tail, back to before the last checkpoint.
sql "$DEP/ra.db" "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id > (SELECT id FROM audit ORDER BY id LIMIT 1 OFFSET $((last - 3)))"
out=$(ra-ctl audit verify 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "rows were cut" && ok "a tail cut before the last checkpoint is found ($total rows cut to $((last - 2)))" ||
	fail "cut tail" "$out"
restore
# 4. A checkpoint that ca-signer did not sign.
sql "$DEP/ra.db" "DROP TRIGGER audit_checkpoints_no_update; UPDATE audit_checkpoints SET rows = rows - 1 WHERE seq = (SELECT max(seq) FROM audit_checkpoints)"
out=$(ra-ctl audit verify 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "signature does not verify" && ok "a checkpoint changed in ra.db fails its signature" ||
	fail "forged checkpoint" "$out"
restore
# 5. ca-signer will not sign a shorter chain than it signed before.
sql "$DEP/ra.db" "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_checkpoints_no_delete;
	DELETE FROM audit WHERE id > (SELECT id FROM audit ORDER BY id LIMIT 1 OFFSET $((last / 2))); DELETE FROM audit_checkpoints"
ra-ctl -c "$RA_CONFIG" up --workers 1 >/dev/null
echo 0123456789abcdef >"$T/serials"
ra-ctl revoke --serials-file "$T/serials" --reason keyCompromise --officer admin --passphrase-file "$OPASS" >/dev/null 2>&1
wait_for 10 grep -q "audit checkpoint refused" "$DEP/log/ca-signer.log" &&
	[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit_checkpoints")" = 0 ] &&
	ok "ca-signer refuses to sign a chain shorter than one it signed" ||
	fail "signer refuses shorter chain" "$(grep -i checkpoint "$DEP"/log/*.log | tail -3)"
ra-ctl down >/dev/null
restore
out=$(ra-ctl audit verify 2>&1)
[ $? -eq 0 ] && ok "the untouched copy verifies" || fail "restored copy" "$out"
