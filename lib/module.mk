# Shared code. Programs name the pieces they link; the key holder links the fewest.
LIB_BASE   := lib/log.c lib/util.c
LIB_CONFIG := lib/config.c lib/config_keys.c
LIB_DB     := lib/db.c lib/schema.c lib/audit.c lib/jobs.c
LIB_SEAL   := lib/seal.c
LIB_NET    := lib/msg.c lib/net.c
LIB_CLIENT := lib/client.c $(LIB_NET)
LIB_B64    := lib/b64.c
