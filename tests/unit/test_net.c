/*
 * test_net.c: the ZAP handler of lib/net.c over real CURVE sockets (ipc:// in a temp
 * folder). An allowed key gets through while the handler runs; once the handler is gone,
 * a CURVE client must be refused, not admitted (ZMQ_ZAP_ENFORCE_DOMAIN).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "net.h"
#include "util.h"

static char dir[] = "/tmp/test-net.XXXXXX";
static char *endpoint, *server_pub, *client_path;
static zcert_t *server_cert;

static int setup(void **state)
{
	(void)state;
	zcert_t *client = zcert_new();
	char *allow;

	if (!mkdtemp(dir))
		return -1;
	allow = xasprintf("%s/clients", dir);
	mkdir(allow, 0700);
	client_path = xasprintf("%s/clients/tester.cert", dir);
	zcert_save(client, client_path);
	zcert_destroy(&client);
	server_cert = zcert_new();
	server_pub = xasprintf("%s/server.cert", dir);
	zcert_save_public(server_cert, server_pub);
	endpoint = xasprintf("ipc://%s/sock", dir);
	if (net_auth_allow_dir("clients", allow) < 0)
		return -1;
	free(allow);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	zcert_destroy(&server_cert);
	free(endpoint);
	free(server_pub);
	free(client_path);
	return 0;
}

/* Whether a message from a fresh client with the allowed key reaches SERVER within 1 s. */
static int reaches(zsock_t *server)
{
	zcert_t *mine = net_cert_load(client_path);
	zsock_t *c = net_client(ZMQ_DEALER, endpoint, mine, server_pub);
	zpoller_t *p = zpoller_new(server, NULL);
	int got = 0;

	assert_non_null(c);
	zstr_send(c, "hello");
	if (zpoller_wait(p, 1000) == server) {
		zmsg_t *m = zmsg_recv(server);
		got = m != NULL;
		zmsg_destroy(&m);
	}
	zpoller_destroy(&p);
	zsock_destroy(&c);
	zcert_destroy(&mine);
	return got;
}

static void test_refused_without_zap_handler(void **state)
{
	(void)state;
	zsock_t *server;

	assert_int_equal(net_auth_start(), 0);
	server = net_server(ZMQ_ROUTER, endpoint, server_cert, "clients");
	assert_non_null(server);
	assert_true(reaches(server));	/* the handler runs: the allowed key is admitted */
	net_auth_stop();		/* the handler is gone, as if its thread had died */
	assert_false(reaches(server));
	zsock_destroy(&server);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_without_zap_handler),
	};
	log_init("test_net", LV_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
