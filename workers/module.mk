PROGRAMS += ra-queue ra-worker
ra-queue_SRCS := workers/queue_main.c workers/queue_ledger.c workers/queue_query.c workers/queue_metrics.c \
                 $(LIB_BASE) $(LIB_CONFIG) $(LIB_DB) $(LIB_NET) $(LIB_METRICS)
ra-queue_PKGS := libczmq libzmq sqlite3 yaml-0.1 jansson libcrypto
ra-worker_SRCS := workers/worker_main.c workers/job.c workers/job_texts.c workers/handlers.c workers/signer_client.c workers/account.c \
                  workers/job_form.c workers/job_register.c workers/job_issue.c workers/issue_pair.c workers/csr_check.c workers/job_order.c workers/job_card.c workers/cardkey_client.c \
                  workers/cert_status.c workers/job_revoke.c workers/job_suspend.c workers/job_resume.c \
                  workers/job_dispatch.c \
                  workers/job_account.c workers/account_guard.c workers/job_renew.c workers/audit_checkpoint.c \
                  workers/officer_check.c workers/job_officer.c workers/job_form_reject.c workers/job_subscriber_find.c workers/job_supersede.c workers/job_change.c \
                  workers/worker_metrics.c $(LIB_METRICS) \
                  $(LIB_OFFICER) $(LIB_OFFICER_DB) \
                  $(LIB_BASE) $(LIB_CONFIG) $(LIB_DB) $(LIB_NET) $(LIB_SEAL) $(LIB_B64) $(LIB_PEM) $(LIB_FORM)
ra-worker_PKGS := libczmq libzmq sqlite3 yaml-0.1 jansson libcrypto libargon2

UNIT_TESTS += test_job_texts
test_job_texts_SRCS := tests/unit/test_job_texts.c workers/job.c workers/job_texts.c $(LIB_BASE) $(LIB_DB)
test_job_texts_PKGS := sqlite3 jansson libcrypto yaml-0.1 libczmq libzmq
