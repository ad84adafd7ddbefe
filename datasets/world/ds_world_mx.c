/*
 * ds_world_mx.c - the MX hosts of the synthetic world: addresses,
 * certificates, TLSA records, mx-hosts.txt and the Postfix configuration
 * that serves them (ds_world.h, "MX hosts and Postfix").
 *
 * Shared hosts (300 provider hosts, 3 special ones) are written with the
 * zone head, one per address, each served by its own smtpd service with
 * its own chain.  Per-domain hosts are written as their domains are
 * generated, and share addresses; each address used gets an SNI table
 * (tls_server_sni_maps) of its own, so an smtpd process loads only the
 * chains of its address when it starts (a table of every chain, loaded
 * by each of ~335 processes, made a 2-CPU machine crawl).  In the catalog
 * an SNI rule names one host; in a bulk world the per-domain hosts are
 * collected per group of domains (all on one address) and one certificate
 * naming the whole group is issued when the group ends, so memory holds
 * one group's names at most and a table has one rule per group.  main.cf
 * and master.cf are written last, when it is known which per-domain
 * addresses are used and which hold one host only.
 */
#include "ds_world_int.h"
#include "ds_world_out.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "st_error.h"

#define NAME_MAX_LEN DS_WORLD_NAME_MAX
#define FILE_MAX (DS_WORLD_NAME_MAX + 16)
#define N_SHARED (2 * DS_WORLD_PROVIDERS)
#define GROUPS_MAX 1000u            /* bulk: certificate groups, about */
#define GROUP_NAMES_MAX (1u << 22)  /* bytes of one group's names */
/* tls/ as seen by smtpd, whose working directory is the queue directory
 * OUT/run/postfix: the SNI table's file names are read from there. */
#define SNI_TLS "../../tls"
/* tls/ in main.cf and master.cf, where parameters expand. */
#define CONF_TLS "${config_directory}/../tls"

struct world_mx {
	FILE *sni_own[DS_WORLD_OWN_MX_ADDRS]; /* postfix/sni-own-NN.regexp */
	char tlsa[2 * 32 + 1];         /* SHA-256 of the leaf SPKI, hex */
	char default_file[FILE_MAX];   /* mx.<tld>.pem */
	/* Per-domain addresses: hosts on each, and the chain of the first. */
	uint32_t own_n[DS_WORLD_OWN_MX_ADDRS];
	char own_file[DS_WORLD_OWN_MX_ADDRS][FILE_MAX];
	/* Bulk: the open certificate group and its host names, each
	 * NUL-terminated, back to back in names[0..len).  Group g holds
	 * the domains d(g * group_size) to d((g + 1) * group_size - 1) and
	 * lives on per-domain address g % DS_WORLD_OWN_MX_ADDRS. */
	uint64_t group_size;           /* domains per group: 10^group_digits */
	int group_digits;
	uint64_t group;
	bool group_open;
	char *names;
	size_t len, cap, n_names;
};

static const char *const special_behaviour[] = { "no-starttls", "wrong-name",
						 "expired" };

static const char *mx_special(uint8_t kind)
{
	switch (kind) {
	case DS_MX_NOSTARTTLS: return "mx-nostarttls";
	case DS_MX_WRONGNAME: return "mx-wrongname";
	case DS_MX_EXPIRED: return "mx-expired";
	case DS_MX_SLOWGREET: return "mx-slowgreet";
	case DS_MX_V6: return "mx-v6";
	}
	return NULL;
}

/* --- addresses (ds_world.h, address plan) --- */

static void addr_shared(unsigned h, char out[16])
{
	snprintf(out, 16, "127.3.%u.%u", (h / 254) % 256, h % 254 + 1);
}

static void addr_own(unsigned slot, char out[16])
{
	snprintf(out, 16, "127.4.%u.%u", (slot / 254) % 256, slot % 254 + 1);
}

/* --- certificates and the SNI table --- */

/* RFC 7672 §3.1.1: DANE-EE(3) SPKI(1) SHA2-256(1) data of key, in hex. */
static int spki_sha256(const EVP_PKEY *key, char hex[2 * 32 + 1])
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int len = i2d_PUBKEY(key, &der);
	int ok;

	if (len <= 0)
		return ST_ETLS;
	ok = EVP_Digest(der, (size_t)len, md, &md_len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (ok != 1 || md_len != 32)
		return ST_ETLS;
	for (unsigned i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return ST_OK;
}

/* A valid leaf for names[0..n) into tls/certs/file. */
static int issue_valid(struct world *w, const char *const *names, size_t n,
		       const char *file)
{
	time_t now = w->o->now;
	int ret = ds_world_issue(w, names, n, now - 30 * DS_WORLD_DAY,
				 now + 365 * DS_WORLD_DAY, file);

	if (ret == ST_OK)
		w->st.n_mx_certs++;
	return ret;
}

/* name with its dots escaped for a POSIX regular expression (the names
 * here are LDH labels and dots, nothing else needs escaping). */
static void put_regex_name(FILE *f, const char *name)
{
	for (; *name != '\0'; name++) {
		if (*name == '.')
			fputs("\\.", f);
		else
			fputc(*name, f);
	}
}

/* The value of an SNI rule: the key first, then the chain (postconf(5),
 * tls_server_sni_maps), files that smtpd loads when it opens the table. */
static void put_sni_value(FILE *f, const char *file)
{
	fprintf(f, "\t" SNI_TLS "/leaf.key, " SNI_TLS "/certs/%s\n", file);
}

static void sni_rule_host(FILE *f, const char *host, const char *file)
{
	fputs("/^", f);
	put_regex_name(f, host);
	fputs("$/", f);
	put_sni_value(f, file);
}

static void group_file(uint64_t g, char *out, size_t cap)
{
	snprintf(out, cap, "mx-own-g%04" PRIu64 ".pem", g);
}

/* The SNI table of per-domain address slot s, opened on first use. */
static int own_table(struct world *w, unsigned s, FILE **f)
{
	struct world_mx *m = w->mx;
	char rel[64];
	int ret;

	if (m->sni_own[s] == NULL) {
		snprintf(rel, sizeof(rel), "postfix/sni-own-%02u.regexp", s);
		ret = ds_world_open_out(w, rel, &m->sni_own[s]);
		if (ret != ST_OK)
			return ret;
		fprintf(m->sni_own[s], "# stsmap world, seed %" PRIu64 ": "
			"tls_server_sni_maps of the per-domain MX hosts on "
			"127.4.0.%u\n# (regexp:, first match wins).  Values: "
			"key and chain files, relative to\n# the queue "
			"directory (OUT/run/postfix), loaded when smtpd opens "
			"the table.\n", w->o->seed, s + 1);
	}
	*f = m->sni_own[s];
	return ST_OK;
}

/* Issue the open group's certificate and write its SNI rule into its
 * address's table: every name below dPPPP???.<tld>, where PPPP is the
 * group number. */
static int group_flush(struct world *w)
{
	struct world_mx *m = w->mx;
	const char **v;
	char file[FILE_MAX];
	size_t off = 0;
	FILE *f = NULL;
	int ret;

	if (!m->group_open || m->n_names == 0)
		return ST_OK;
	v = malloc(m->n_names * sizeof(*v));
	if (v == NULL)
		return ST_ENOMEM;
	for (size_t i = 0; i < m->n_names; i++) {
		v[i] = m->names + off;
		off += strlen(v[i]) + 1;
	}
	group_file(m->group, file, sizeof(file));
	ret = issue_valid(w, v, m->n_names, file);
	free(v);
	if (ret == ST_OK)
		ret = own_table(w, (unsigned)(m->group % DS_WORLD_OWN_MX_ADDRS),
				&f);
	if (ret != ST_OK)
		return ret;
	fprintf(f, "/\\.d%0*" PRIu64 "[0-9]{%d}\\.", 7 - m->group_digits,
		m->group, m->group_digits);
	put_regex_name(f, w->o->tld);
	fputs("$/", f);
	put_sni_value(f, file);
	m->group_open = false;
	m->len = 0;
	m->n_names = 0;
	return ST_OK;
}

/* Add host, a per-domain MX host of domain number index, to its group;
 * file: the group's chain. */
static int group_add(struct world *w, uint64_t index, const char *host,
		     char *file, size_t cap)
{
	struct world_mx *m = w->mx;
	uint64_t g = index / m->group_size;
	size_t hl = strlen(host) + 1;
	int ret = ST_OK;

	if (m->group_open && g != m->group)
		ret = group_flush(w);
	if (ret != ST_OK)
		return ret;
	if (m->len + hl > m->cap) {
		size_t cap2 = m->cap == 0 ? 4096 : 2 * m->cap;
		char *p;

		while (cap2 < m->len + hl)
			cap2 *= 2;
		if (cap2 > GROUP_NAMES_MAX)
			return ST_ETOOBIG;
		p = realloc(m->names, cap2);
		if (p == NULL)
			return ST_ENOMEM;
		m->names = p;
		m->cap = cap2;
	}
	memcpy(m->names + m->len, host, hl);
	m->len += hl;
	m->n_names++;
	m->group = g;
	m->group_open = true;
	group_file(g, file, cap);
	return ST_OK;
}

/* --- the hosts --- */

int ds_world_mx_begin(struct world *w)
{
	struct world_mx *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return ST_ENOMEM;
	w->mx = m;
	/* Groups of 10^k domains, k >= 1, about GROUPS_MAX of them at
	 * most: a million domains make 1,001 groups of ~200 per-domain
	 * hosts, ~31 groups on each address. */
	m->group_size = 10;
	m->group_digits = 1;
	while (w->o->n_domains / m->group_size > GROUPS_MAX &&
	       m->group_digits < 6) {
		m->group_size *= 10;
		m->group_digits++;
	}
	return spki_sha256(w->key, m->tlsa);
}

/* The shared provider hosts and the default certificate of smtpd. */
static int shared_providers(struct world *w)
{
	struct world_mx *m = w->mx;
	const char *t = w->o->tld;
	char host[NAME_MAX_LEN], file[FILE_MAX], addr[16];
	const char *names[1] = { host };
	int ret = ST_OK;

	for (unsigned k = 0; k < DS_WORLD_PROVIDERS && ret == ST_OK; k++) {
		bool tlsa = ds_world_provider_tlsa(k);

		for (unsigned j = 0; j < 2 && ret == ST_OK; j++) {
			snprintf(host, sizeof(host), "mx%u.prov%03u.%s",
				 j + 1, k, t);
			addr_shared(2 * k + j, addr);
			fprintf(w->zone, "%s.\t%d\tIN\tA\t%s\n", host,
				DS_WORLD_TTL, addr);
			if (tlsa) {
				fprintf(w->zone, "_25._tcp.%s.\t%d\tIN\tTLSA\t"
					"3 1 1 %s\n", host, DS_WORLD_TTL,
					m->tlsa);
				w->st.n_tlsa++;
			}
			fprintf(w->mxhosts, "%s %s starttls-valid %s\n", host,
				addr, tlsa ? "tlsa" : "-");
			snprintf(file, sizeof(file), "%s.pem", host);
			ret = issue_valid(w, names, 1, file);
		}
	}
	/* What smtpd serves without SNI where several hosts share an
	 * address: a certificate for its own name, as a real host would. */
	snprintf(host, sizeof(host), "mx.%s", t);
	snprintf(m->default_file, sizeof(m->default_file), "%s.pem", host);
	if (ret == ST_OK)
		ret = issue_valid(w, names, 1, m->default_file);
	return ret;
}

int ds_world_mx_shared(struct world *w)
{
	const char *t = w->o->tld;
	time_t now = w->o->now;
	char host[NAME_MAX_LEN], other[NAME_MAX_LEN + 8], file[FILE_MAX];
	char addr[16];
	const char *names[1];
	int ret = shared_providers(w);

	for (uint8_t k = DS_MX_NOSTARTTLS; k <= DS_MX_EXPIRED && ret == ST_OK;
	     k++) {
		unsigned i = (unsigned)(k - DS_MX_NOSTARTTLS);

		snprintf(host, sizeof(host), "%s.%s", mx_special(k),
			 t);
		snprintf(file, sizeof(file), "%s.pem", host);
		addr_shared(N_SHARED + i, addr);
		fprintf(w->zone, "%s.\t%d\tIN\tA\t%s\n", host, DS_WORLD_TTL,
			addr);
		fprintf(w->mxhosts, "%s %s %s -\n", host, addr,
			special_behaviour[i]);
		names[0] = host;
		if (k == DS_MX_WRONGNAME) {
			/* Valid in every way but the name. */
			snprintf(other, sizeof(other), "www.%s", host);
			names[0] = other;
			ret = issue_valid(w, names, 1, file);
		} else if (k == DS_MX_EXPIRED) {
			/* The right name, so expiry is the only fault
			 * (ds_certs.h: names are checked first). */
			ret = ds_world_issue(w, names, 1,
					     now - 400 * DS_WORLD_DAY,
					     now - 30 * DS_WORLD_DAY, file);
			if (ret == ST_OK)
				w->st.n_mx_certs++;
		}
	}
	if (ret == ST_OK && w->o->behave)
		ret = ds_world_behave_shared(w);
	return ret;
}

/* A per-domain MX host `host` of d: picks its address (into addr), writes
 * its mx-hosts.txt line and makes sure a certificate names it.  The
 * caller writes the A record. */
static int mx_own(struct world *w, const struct dom *d, const char *host,
		  char addr[16])
{
	struct world_mx *m = w->mx;
	unsigned slot;
	char file[FILE_MAX];
	int ret;

	/* The catalog: round robin, a host per address while they last;
	 * bulk: the address of the domain's group. */
	if (w->o->n_domains == 0)
		slot = (unsigned)(w->st.n_mx_own % DS_WORLD_OWN_MX_ADDRS);
	else
		slot = (unsigned)(d->index / m->group_size %
				  DS_WORLD_OWN_MX_ADDRS);
	addr_own(slot, addr);
	w->st.n_mx_own++;
	fprintf(w->mxhosts, "%s %s starttls-valid -\n", host, addr);
	if (w->o->n_domains == 0) {
		/* The catalog: a chain and a rule per host. */
		const char *names[1] = { host };
		FILE *f = NULL;

		if (snprintf(file, sizeof(file), "%s.pem", host) >=
		    (int)sizeof(file))
			return ST_ETOOBIG;
		ret = issue_valid(w, names, 1, file);
		if (ret == ST_OK)
			ret = own_table(w, slot, &f);
		if (ret == ST_OK)
			sni_rule_host(f, host, file);
	} else {
		ret = group_add(w, d->index, host, file, sizeof(file));
	}
	if (ret == ST_OK && m->own_n[slot]++ == 0)
		snprintf(m->own_file[slot], sizeof(m->own_file[slot]), "%s",
			 file);
	return ret;
}

/* --- one domain's MX records (ds_world_int.h) --- */

int ds_world_mx_domain(struct world *w, const struct dom *d)
{
	static const char *const own[] = { "mx1", "mx2" };
	char host[NAME_MAX_LEN], addr[DS_WORLD_ADDR_MAX];
	FILE *z = w->zone;
	int ret = ST_OK;

	switch (d->sc->mx) {
	case DS_MX_PROVIDER:
		fprintf(z, "%s.\t%d\tIN\tMX\t10 mx1.prov%03u.%s.\n", d->name, DS_WORLD_TTL,
			d->provider, w->o->tld);
		fprintf(z, "%s.\t%d\tIN\tMX\t20 mx2.prov%03u.%s.\n", d->name, DS_WORLD_TTL,
			d->provider, w->o->tld);
		break;
	case DS_MX_OWN:
		for (size_t i = 0; i < 2 && ret == ST_OK; i++) {
			snprintf(host, sizeof(host), "%s.%s", own[i], d->name);
			ret = mx_own(w, d, host, addr);
			fprintf(z, "%s.\t%d\tIN\tMX\t%zu %s.\n", d->name, DS_WORLD_TTL,
				10 * (i + 1), host);
			fprintf(z, "%s.\t%d\tIN\tA\t%s\n", host, DS_WORLD_TTL, addr);
		}
		break;
	case DS_MX_OWN_DEEP:
		snprintf(host, sizeof(host), "mx.eu.%s", d->name);
		ret = mx_own(w, d, host, addr);
		fprintf(z, "%s.\t%d\tIN\tMX\t10 %s.\n", d->name, DS_WORLD_TTL, host);
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", host, DS_WORLD_TTL, addr);
		break;
	case DS_MX_NULL:
		fprintf(z, "%s.\t%d\tIN\tMX\t0 .\n", d->name, DS_WORLD_TTL);
		break;
	case DS_MX_NONE:
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", d->name, DS_WORLD_TTL,
			DS_WORLD_ADDR_REFUSED);
		break;
	case DS_MX_TENANT:
		ds_world_behave_tenant(w, d->index, host, addr);
		fprintf(z, "%s.\t%d\tIN\tMX\t10 %s.\n", d->name, DS_WORLD_TTL,
			host);
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", host, DS_WORLD_TTL, addr);
		break;
	default:
		fprintf(z, "%s.\t%d\tIN\tMX\t10 %s.%s.\n", d->name, DS_WORLD_TTL,
			mx_special(d->sc->mx), w->o->tld);
		break;
	}
	return ret;
}

/* --- Postfix --- */

static void write_main_cf(struct world *w, FILE *f)
{
	const char *t = w->o->tld;

	fprintf(f,
		"# stsmap world, seed %" PRIu64 ": one Postfix for every MX "
		"host of mx-hosts.txt.\n"
		"# Run as root (scripts/world-up does):\n"
		"#   $(postconf -h daemon_directory)/master -c OUT/postfix\n"
		"# A STARTTLS endpoint only: it accepts no mail, delivers "
		"nothing, looks\n# nothing up in DNS.  The queue and data "
		"directories are made by world-up.\n\n",
		w->o->seed);
	fputs("compatibility_level = 3.6\n"
	      "queue_directory = ${config_directory}/../run/postfix\n"
	      "data_directory = ${config_directory}/../run/postfix-data\n"
	      "maillog_file = ${config_directory}/../run/postfix.log\n"
	      "maillog_file_prefixes = ${config_directory}/../run\n", f);
	fprintf(f, "myhostname = mx.%s\nmydomain = %s\n"
		   "myorigin = $mydomain\n", t, t);
	fputs("# Every listener has its address in master.cf; nothing "
	      "listens elsewhere.\n"
	      "inet_interfaces = loopback-only\n", f);
	/* --behave serves an MX host on IPv6 too. */
	fprintf(f, "inet_protocols = %s\n", w->o->behave ? "all" : "ipv4");
	fputs("mynetworks = 127.0.0.1/32\n"
	      "mydestination =\n"
	      "relay_domains =\n"
	      "relayhost =\n"
	      "alias_maps =\n"
	      "alias_database =\n"
	      "local_recipient_maps =\n"
	      "# Nowhere to deliver to, and no delivery agent in master.cf.\n"
	      "default_transport = error:5.7.0 the stsmap world delivers "
	      "nothing\n"
	      "relay_transport = $default_transport\n"
	      "local_transport = $default_transport\n"
	      "virtual_transport = $default_transport\n"
	      "smtp_dns_support_level = disabled\n"
	      "lmtp_dns_support_level = disabled\n"
	      "smtpd_peername_lookup = no\n"
	      "biff = no\n"
	      "# Refuse every transaction at MAIL FROM: nothing is ever "
	      "queued.\n"
	      "smtpd_delay_reject = no\n"
	      "smtpd_client_restrictions =\n"
	      "smtpd_helo_restrictions =\n"
	      "smtpd_sender_restrictions = reject\n"
	      "smtpd_relay_restrictions = reject\n"
	      "smtpd_recipient_restrictions = reject\n"
	      "smtpd_data_restrictions = reject\n"
	      "smtpd_etrn_restrictions = reject\n"
	      "disable_vrfy_command = yes\n"
	      "# A scanner connects from 127.0.0.1 many times at once.\n"
	      "smtpd_client_connection_count_limit = 0\n"
	      "smtpd_client_connection_rate_limit = 0\n"
	      "max_idle = 10s\n"
	      "# TLS: per service (master.cf): a shared host's chain, or by "
	      "SNI from its\n# address's sni-own-NN.regexp; else this "
	      "chain, for mx.<tld>.\n"
	      "smtpd_tls_security_level = may\n", f);
	fprintf(f, "smtpd_tls_chain_files = " CONF_TLS "/leaf.key, "
		   CONF_TLS "/certs/%s\n", w->mx->default_file);
	fputs("tls_server_sni_maps =\n"
	      "smtpd_tls_loglevel = 0\n", f);
	if (w->o->behave)
		ds_world_behave_main_cf(f);
}

/* One smtpd service on addr; chain: its default chain file (NULL: the
 * main.cf one); extra: more -o options (NULL: none). */
static void put_service(FILE *f, const char *addr, unsigned port,
			const char *chain, const char *extra)
{
	fprintf(f, "%s:%u\tinet\tn\t-\tn\t-\t-\tsmtpd\n", addr, port);
	if (chain != NULL)
		fprintf(f, "  -o smtpd_tls_chain_files=" CONF_TLS "/leaf.key,"
			   CONF_TLS "/certs/%s\n", chain);
	if (extra != NULL)
		fprintf(f, "  %s\n", extra);
}

static void write_master_cf(struct world *w, FILE *f)
{
	struct world_mx *m = w->mx;
	unsigned port = w->o->smtp_port;
	char addr[16], file[FILE_MAX], sni[96];
	uint64_t n_own = 0;

	fprintf(f, "# stsmap world, seed %" PRIu64 ": one smtpd per MX "
		   "address (see main.cf).\n# service\ttype\tprivate\tunpriv"
		   "\tchroot\twakeup\tmaxproc\tcommand\n"
		   "# shared provider hosts, one per address\n", w->o->seed);
	for (unsigned h = 0; h < N_SHARED; h++) {
		addr_shared(h, addr);
		snprintf(file, sizeof(file), "mx%u.prov%03u.%s.pem", h % 2 + 1,
			 h / 2, w->o->tld);
		put_service(f, addr, port, file, NULL);
	}
	fputs("# the special hosts: no STARTTLS, wrong name, expired\n", f);
	addr_shared(N_SHARED, addr);
	put_service(f, addr, port, NULL, "-o smtpd_tls_security_level=none");
	for (uint8_t k = DS_MX_WRONGNAME; k <= DS_MX_EXPIRED; k++) {
		addr_shared(N_SHARED + (unsigned)(k - DS_MX_NOSTARTTLS), addr);
		snprintf(file, sizeof(file), "%s.%s.pem",
			 mx_special(k), w->o->tld);
		put_service(f, addr, port, file, NULL);
	}
	fputs("# per-domain hosts: by SNI; an address with one host also "
	      "serves its chain\n# without SNI\n", f);
	for (unsigned s = 0; s < DS_WORLD_OWN_MX_ADDRS; s++) {
		if (m->own_n[s] == 0)
			continue;
		addr_own(s, addr);
		snprintf(sni, sizeof(sni), "-o tls_server_sni_maps=regexp:"
			 "${config_directory}/sni-own-%02u.regexp", s);
		put_service(f, addr, port,
			    m->own_n[s] == 1 ? m->own_file[s] : NULL,
			    m->sni_own[s] != NULL ? sni : NULL);
		n_own++;
	}
	w->st.n_smtp_services = N_SHARED + 3 + n_own;
	if (w->o->behave)
		w->st.n_smtp_services += ds_world_behave_master_cf(w, f);
	fputs("# internal services; no cleanup, qmgr, pickup or delivery "
	      "agent\ntlsmgr\tunix\t-\t-\tn\t1000?\t1\ttlsmgr\n"
	      "rewrite\tunix\t-\t-\tn\t-\t-\ttrivial-rewrite\n"
	      "anvil\tunix\t-\t-\tn\t-\t1\tanvil\n"
	      "postlog\tunix-dgram\tn\t-\tn\t-\t1\tpostlogd\n", f);
}

int ds_world_mx_end(struct world *w)
{
	struct world_mx *m = w->mx;
	FILE *f = NULL;
	int ret = group_flush(w);
	int r2;

	if (ret == ST_OK)
		ret = ds_world_open_out(w, "postfix/main.cf", &f);
	if (ret != ST_OK)
		return ret;
	write_main_cf(w, f);
	ret = ds_world_close_out(&f);
	if (ret == ST_OK)
		ret = ds_world_open_out(w, "postfix/master.cf", &f);
	if (ret != ST_OK)
		return ret;
	write_master_cf(w, f); /* reads which sni_own[] were opened */
	ret = ds_world_close_out(&f);
	for (unsigned s = 0; s < DS_WORLD_OWN_MX_ADDRS; s++) {
		r2 = ds_world_close_out(&m->sni_own[s]);
		ret = ret == ST_OK ? r2 : ret;
	}
	return ret;
}

void ds_world_mx_free(struct world *w)
{
	if (w->mx == NULL)
		return;
	for (unsigned s = 0; s < DS_WORLD_OWN_MX_ADDRS; s++)
		ds_world_close_out(&w->mx->sni_own[s]);
	free(w->mx->names);
	free(w->mx);
	w->mx = NULL;
}
