/*
 * ds_store_v1.c - test tool: turn a store into one the previous version
 * wrote, by rewriting every scan's info in scan info version 1 (the typed
 * options and input digests dropped; meta_json, which version 1 read them
 * from, kept).  The results, bodies, probes and input errors are the same
 * bytes in both versions.  Used by tests/cli/test_store_cli.sh to check
 * that show, report and merge still work on an old store.
 * Usage: ds_store_v1 STORE   (no other process may hold STORE)
 */
#include <errno.h>
#include <stdio.h>

#include <lmdb.h>

#include "ds_store.h"
#include "ds_store_scan.h"
#include "ds_store_v1.h"
#include "st_error.h"

static int rewrite(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(txn, dbi, &c);
	if (rc != MDB_SUCCESS)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ds_scan_info info;
		uint8_t *old;
		size_t len;
		MDB_val nv;

		if (ds_scan_decode(v.mv_data, v.mv_size, &info) != ST_OK) {
			rc = MDB_CORRUPTED;
			break;
		}
		old = v1_encode(&info, &len);
		if (old == NULL) {
			rc = ENOMEM;
			break;
		}
		nv.mv_size = len;
		nv.mv_data = old;
		rc = mdb_cursor_put(c, &k, &nv, MDB_CURRENT);
		free(old);
		if (rc != MDB_SUCCESS)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

int main(int argc, char **argv)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: ds_store_v1 STORE\n");
		return 2;
	}
	rc = mdb_env_create(&env);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_maxdbs(env, 8);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_open(env, argv[1], MDB_NOSUBDIR, 0644);
	if (rc == MDB_SUCCESS)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == MDB_SUCCESS)
		rc = mdb_dbi_open(txn, "scans", 0, &dbi);
	if (rc == MDB_SUCCESS)
		rc = rewrite(txn, dbi);
	if (rc == MDB_SUCCESS) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	if (rc != MDB_SUCCESS) {
		fprintf(stderr, "ds_store_v1: %s: %s\n", argv[1],
			mdb_strerror(rc));
		return 1;
	}
	return 0;
}
