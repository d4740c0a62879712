#!/bin/bash
# ra-cardkey, the card master key's holder, spoken to raw over its CURVE socket: only the
# workers' keys get in (a producer's key, or a worker key of another deployment, gets no
# answer at all); it answers CARD_CHALLENGE the same way each time for one request id,
# refuses a wrong answer to its challenge, releases PUKs only sealed, and answers nothing
# else. Then its seccomp allow-list, proven on the real program as ca-signer's is: with
# $RA_SANDBOX_TEST set it starts as the daemon does (master key loaded, socket bound,
# privileges dropped, filter installed) and attempts one call; forbidden ones kill it
# with SIGSYS (exit status 128 + 31).
. "$(dirname "$0")/lib.sh"
ra_deploy 1
CK="ra-probe --endpoint ipc://$DEP/run/cardkey.sock --server-cert $DEP/keys/cardkey.cert --timeout 3000"
ask() { $CK --client-cert "$1" "${@:2}"; }	# CLIENT-CERT FRAME...
W=$DEP/keys/workers/worker.cert
printf '0123456789abcdef' > "$T/witness"
printf 'fedcba9876543210' > "$T/wrong"

# The card's answer to a challenge, computed here from the master key as the card would.
card_answer() {	# SERIAL CHALLENGE-HEX
	/usr/bin/python3 -c '
import sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
master = bytes.fromhex(open(sys.argv[1]).read().strip())
key = HKDF(hashes.SHA256(), 16, b"ra card secrets salt v1", b"ra card management key aes128 v1\0" + sys.argv[2].encode()).derive(master)
e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
print((e.update(bytes.fromhex(sys.argv[3])) + e.finalize()).hex())
' "$DEP/keys/card-master.key" "$1" "$2"
}
json_get() { /usr/bin/python3 -c 'import json, sys; print(json.loads(sys.stdin.read()).get(sys.argv[1], ""))' "$1"; }

a1=$(ask "$W" RA/1 CARD_CHALLENGE 41 8101 @"$T/witness")
a2=$(ask "$W" RA/1 CARD_CHALLENGE 41 8101 @"$T/witness")
a3=$(ask "$W" RA/1 CARD_CHALLENGE 42 8101 @"$T/witness")
chal=$(echo "$a1" | sed -n 3p | json_get challenge)
[ "$(echo "$a1" | sed -n 2p)" = ANSWER ] && [ ${#chal} = 32 ] && ok "a worker's key gets a challenge" || fail "challenge" "$a1"
[ "$a1" = "$a2" ] && [ "$a1" != "$a3" ] && ok "the same request gets the same answer, another request another challenge" \
	|| fail "idempotent challenge" "$a1 / $a2 / $a3"

# Keys that are not the workers': a producer's, and a worker key of another deployment.
ra-ctl init "$T/other" --passphrase-file "$OPASS" >/dev/null 2>&1 || fail "second deployment"
for c in "$DEP/keys/clients/station.cert" "$DEP/keys/clients/intake.cert" "$T/other/keys/workers/worker.cert"; do
	out=$(ask "$c" RA/1 CARD_CHALLENGE 41 8101 @"$T/witness")
	[ "$out" = timeout ] && ok "refused by ZAP: ${c#"$T"/}" || fail "refused by ZAP: ${c#"$T"/}" "$out"
done

resp=$(card_answer 8101 "$chal")
printf '%s' "$resp" | xxd -r -p > "$T/resp"
out=$(ask "$W" RA/1 CARD_PROOF 41 8101 @"$T/wrong" "" 1)
echo "$out" | sed -n 2,4p | tr '\n' ' ' | grep -q '^ERROR 2 .*did not prove' && ok "a wrong answer to the challenge is refused" || fail "wrong answer" "$out"
out=$(ask "$W" RA/1 CARD_PROOF 42 8101 @"$T/resp" "" 1)
echo "$out" | grep -q '^ERROR' && ok "an answer to another request's challenge is refused" || fail "answer of another request" "$out"
out=$(ask "$W" RA/1 CARD_PROOF 41 8101 @"$T/resp" "" 1)
[ "$(echo "$out" | sed -n 3p)" = '{"ok":true}' ] && ok "the card's right answer is accepted" || fail "right answer" "$out"
# A one-time X25519 key of the station: the PUKs come back sealed to it, and open with it.
/usr/bin/python3 -c '
import sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization as s
k = X25519PrivateKey.generate()
open(sys.argv[1], "wb").write(k.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption()))
open(sys.argv[2], "wb").write(k.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw))
' "$T/station.key" "$T/station.pub"
out=$(ask "$W" RA/1 CARD_PROOF 41 8101 @"$T/resp" @"$T/station.pub" 1)
echo "$out" | sed -n 3p > "$T/sealed.json"
puks=$(/usr/bin/python3 -c '
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
k = X25519PrivateKey.from_private_bytes(open(sys.argv[1], "rb").read())
j = json.load(open(sys.argv[2]))
out = []
for f in ("sealed_puk", "sealed_next_puk", "sealed_after_puk"):
    box = base64.b64decode(j[f])
    eph, nonce, ct = box[1:33], box[33:45], box[45:]
    me = open(sys.argv[3], "rb").read()
    key = HKDF(hashes.SHA256(), 32, eph + me, b"ra sheet seal v1").derive(k.exchange(X25519PublicKey.from_public_bytes(eph)))
    p = AESGCM(key).decrypt(nonce, ct, None).decode()
    out.append("8digits" if len(p) == 8 and p.isdigit() else "bad")
print(" ".join(out))
' "$T/station.key" "$T/sealed.json" "$T/station.pub" 2>&1)
[ "$puks" = "8digits 8digits 8digits" ] && ! grep -qE '"[0-9]{8}"' "$T/sealed.json" \
	&& ok "the PUKs come only sealed to the station's one-time key" || fail "sealed PUKs" "$puks $out"
out=$(ask "$W" RA/1 SIGN r1 signature x '{}')
echo "$out" | sed -n 2,4p | tr '\n' ' ' | grep -q '^ERROR 1 ra-cardkey answers CARD_CHALLENGE and CARD_PROOF only' \
	&& ok "it answers nothing else" || fail "other commands" "$out"
! grep -qE '[0-9a-f]{32}' "$DEP/log/ra-cardkey.log" && ok "its log holds no key, witness or challenge" || fail "log leaks"

# The seccomp allow-list.
if nm -C "$BUILD/bin/ra-cardkey" 2>/dev/null | grep -q __asan_init; then
	ok "sanitizer build: the filter is not installed there (skipped)"; exit 0
fi
pid=$(cat "$DEP/run/ra-cardkey.pid")
grep -q 'Seccomp:.*2' "/proc/$pid/status" && ok "the running ra-cardkey is filtered (Seccomp: 2)" || fail "Seccomp mode" "$(grep Seccomp "/proc/$pid/status")"
ra-ctl down >/dev/null
grep -q "ra-cardkey stopping" "$DEP/log/ra-cardkey.log" && ok "it stops cleanly under the filter" || fail "clean stop" "$(tail -n 3 "$DEP/log/ra-cardkey.log")"
selftest() {	# CALL: ra-cardkey's exit status
	RA_SANDBOX_TEST=$1 ra-cardkey >"$T/selftest.log" 2>&1
	echo $?
}
for call in fork clone execve socket-inet socket-inet6 socket-unix "open-write:$T/leak" "openat-write:$T" "openat-write:$DEP/keys" mmap-exec; do
	rc=$(selftest "$call")
	if [ "$rc" = 159 ] && grep -q "sandbox self-test: $call" "$T/selftest.log"; then
		ok "$(echo "$call" | sed "s|$T/||") kills the sandboxed ra-cardkey (SIGSYS)"
	else
		fail "${call%%:*} kills the sandboxed ra-cardkey" "exit $rc: $(tail -n 2 "$T/selftest.log")"
	fi
done
[ ! -e "$T/leak" ] && [ ! -e "$T/sandbox-test" ] && [ ! -e "$DEP/keys/sandbox-test" ] && ok "nothing was written" || fail "a file was written"
rc=$(selftest open-read:/etc/hostname)
[ "$rc" = 0 ] && ok "reading a file is allowed" || fail "open-read" "exit $rc: $(tail -n 2 "$T/selftest.log")"
exit 0
