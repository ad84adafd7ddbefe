/*
 * ds_world_behave.c - the server behaviours of `stsmap world --behave`
 * (ds_world.h, "Server behaviours"): hosts that throttle, greet late,
 * share a few addresses among many names, or speak only IPv6.
 *
 * Everything here is written only when the option is on, so a world
 * without it is unchanged.  The limits are chosen so that a polite scan
 * of the catalog never meets them (the truth stays what a compliant scan
 * concludes), while a client that opens more connections than a real
 * provider allows, as tests/world/test_behave.sh does on purpose, is
 * refused and logged.
 */
#include "ds_world_int.h"
#include "ds_world_out.h"

#include <inttypes.h>
#include <string.h>

#include "st_error.h"

/* tls/ in master.cf, where parameters expand (as in ds_world_mx.c). */
#define CONF_TLS "${config_directory}/../tls"
#define TENANT_PARENT "mx.bigmail"

static const char *const slowgreet = "mx-slowgreet";
static const char *const v6mx = "mx-v6";

static void tenant_addr(uint64_t index, char addr[DS_WORLD_ADDR_MAX])
{
	snprintf(addr, DS_WORLD_ADDR_MAX, "127.6.0.%u",
		 (unsigned)(index % DS_WORLD_TENANT_ADDRS) + 1);
}

static int issue_one(struct world *w, const char *name, const char *file)
{
	const char *names[1] = { name };
	time_t now = w->o->now;
	int ret = ds_world_issue(w, names, 1, now - 30 * DS_WORLD_DAY,
				 now + 365 * DS_WORLD_DAY, file);

	if (ret == ST_OK)
		w->st.n_mx_certs++;
	return ret;
}

int ds_world_behave_shared(struct world *w)
{
	const char *t = w->o->tld;
	char host[DS_WORLD_NAME_MAX], file[DS_WORLD_NAME_MAX + 16];
	int ret;

	/* RFC 6125 §6.4.3: "*" covers exactly one leftmost label, so one
	 * certificate serves every t<N>.mx.bigmail.<tld>. */
	snprintf(host, sizeof(host), "*." TENANT_PARENT ".%s", t);
	snprintf(file, sizeof(file), "wildcard." TENANT_PARENT ".%s.pem", t);
	ret = issue_one(w, host, file);
	if (ret != ST_OK)
		return ret;
	snprintf(host, sizeof(host), "%s.%s", slowgreet, t);
	snprintf(file, sizeof(file), "%s.pem", host);
	fprintf(w->zone, "%s.\t%d\tIN\tA\t%s\n", host, DS_WORLD_TTL,
		DS_WORLD_ADDR_SLOWGREET);
	fprintf(w->mxhosts, "%s %s starttls-valid -\n", host,
		DS_WORLD_ADDR_SLOWGREET);
	ret = issue_one(w, host, file);
	if (ret != ST_OK)
		return ret;
	snprintf(host, sizeof(host), "%s.%s", v6mx, t);
	snprintf(file, sizeof(file), "%s.pem", host);
	fprintf(w->zone, "%s.\t%d\tIN\tAAAA\t%s\n", host, DS_WORLD_TTL,
		DS_WORLD_ADDR6_MX);
	fprintf(w->mxhosts, "%s %s starttls-valid -\n", host,
		DS_WORLD_ADDR6_MX);
	return issue_one(w, host, file);
}

void ds_world_behave_tenant(struct world *w, uint64_t index,
			    char host[DS_WORLD_NAME_MAX],
			    char addr[DS_WORLD_ADDR_MAX])
{
	snprintf(host, DS_WORLD_NAME_MAX, "t%" PRIu64 "." TENANT_PARENT ".%s",
		 index, w->o->tld);
	tenant_addr(index, addr);
	fprintf(w->mxhosts, "%s %s starttls-valid -\n", host, addr);
}

void ds_world_behave_ph_addr(uint8_t ph, uint64_t n,
			     char addr[DS_WORLD_ADDR_MAX])
{
	if (ph == DS_PH_V6)
		snprintf(addr, DS_WORLD_ADDR_MAX, "%s", DS_WORLD_ADDR6_POLICY);
	else
		snprintf(addr, DS_WORLD_ADDR_MAX, "127.6.1.%u",
			 (unsigned)(n % DS_WORLD_PROVIDER_ADDRS) + 1);
}

void ds_world_behave_main_cf(FILE *f)
{
	fprintf(f, "# --behave: the window of the tenant hosts' connection "
		   "rate limits.\nanvil_rate_time_unit = %ds\n",
		DS_WORLD_ANVIL_UNIT);
}

unsigned ds_world_behave_master_cf(struct world *w, FILE *f)
{
	const char *t = w->o->tld;
	unsigned port = w->o->smtp_port, n = 0;

	fprintf(f, "# --behave: tenant MX hosts, %d addresses, a wildcard "
		   "certificate, anvil limits\n# per client; localhost is "
		   "not exempt (the default exception is $mynetworks)\n",
		DS_WORLD_TENANT_ADDRS);
	for (unsigned i = 1; i <= DS_WORLD_TENANT_ADDRS; i++, n++)
		fprintf(f, "127.6.0.%u:%u\tinet\tn\t-\tn\t-\t-\tsmtpd\n"
			   "  -o smtpd_tls_chain_files=" CONF_TLS "/leaf.key,"
			   CONF_TLS "/certs/wildcard." TENANT_PARENT ".%s.pem\n"
			   "  -o smtpd_client_connection_count_limit=%d\n"
			   "  -o smtpd_client_connection_rate_limit=%d\n"
			   "  -o smtpd_client_event_limit_exceptions=\n",
			i, port, t, DS_WORLD_ANVIL_COUNT, DS_WORLD_ANVIL_RATE);
	/* smtpd_delay_reject = no (main.cf): client restrictions run at
	 * connect time, before the greeting. */
	fprintf(f, "# --behave: the greeting after a pause\n"
		   "%s:%u\tinet\tn\t-\tn\t-\t-\tsmtpd\n"
		   "  -o smtpd_tls_chain_files=" CONF_TLS "/leaf.key,"
		   CONF_TLS "/certs/%s.%s.pem\n"
		   "  -o { smtpd_client_restrictions = sleep %d }\n",
		DS_WORLD_ADDR_SLOWGREET, port, slowgreet, t,
		DS_WORLD_GREET_DELAY);
	n++;
	fprintf(f, "# --behave: IPv6 only\n"
		   "[%s]:%u\tinet\tn\t-\tn\t-\t-\tsmtpd\n"
		   "  -o smtpd_tls_chain_files=" CONF_TLS "/leaf.key,"
		   CONF_TLS "/certs/%s.%s.pem\n",
		DS_WORLD_ADDR6_MX, port, v6mx, t);
	return n + 1;
}

void ds_world_behave_nginx_head(FILE *f)
{
	/* Keyed by client and server address: each of the provider's two
	 * addresses limits each client on its own, as separate machines
	 * would.  Rejections are logged at "error", error_log's level. */
	fprintf(f, "\t# --behave: the policy-host provider's limits\n"
		   "\tlimit_req_zone $binary_remote_addr$server_addr "
		   "zone=provider_req:1m rate=%dr/s;\n"
		   "\tlimit_conn_zone $binary_remote_addr$server_addr "
		   "zone=provider_conn:1m;\n"
		   "\tlimit_req_log_level error;\n"
		   "\tlimit_conn_log_level error;\n"
		   "\tlimit_req_status 503;\n"
		   "\tlimit_conn_status 503;\n\n", DS_WORLD_REQ_RATE);
}

void ds_world_behave_nginx_limits(FILE *f)
{
	/* burst without nodelay: requests above the rate wait their turn
	 * (a polite client is slowed, not refused); beyond the burst, 503. */
	fprintf(f, "\t\t\tlimit_req zone=provider_req burst=%d;\n"
		   "\t\t\tlimit_conn provider_conn %d;\n", DS_WORLD_REQ_BURST,
		DS_WORLD_CONN_MAX);
}
