/*
 * fuzz-csr.c - the finalize path of certmint serve's ACME before anything
 * is signed: a finalize payload {"identifiers": [...], "csr": "..."} (the
 * order's identifiers ride along here), base64url of the CSR, PKCS#10
 * import and signature check, and cm__acme_csr_names_match().
 *
 * Promises checked: a refusal says why in one line; an acceptance means
 * the CSR names something, and every DNS subjectAltName it carries is one
 * of the identifiers (checked here again, independently).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "online/online.h"
#include "fuzz.h"

static cm_ctx *ctx;

static void
check_accepted(gnutls_x509_crq_t crq, json_t *ids)
{
	char buf[512];
	size_t len, k;
	unsigned type, crit, i, named = 0;
	json_t *v;
	int ret;

	for (i = 0;; i++) {
		len = sizeof(buf) - 1;
		ret = gnutls_x509_crq_get_subject_alt_name(crq, i, buf, &len,
		    &type, &crit);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		FUZZ_ASSERT(ret >= 0);
		named++;
		if (type != GNUTLS_SAN_DNSNAME)
			continue;
		buf[len] = '\0';
		FUZZ_ASSERT(strlen(buf) == len);
		json_array_foreach(ids, k, v) {
			const char *val = json_string_value(json_object_get(v,
			    "value"));
			if (val != NULL && strcasecmp(val, buf) == 0)
				break;
		}
		FUZZ_ASSERT(k < json_array_size(ids));
	}
	len = sizeof(buf);
	FUZZ_ASSERT(named > 0 || gnutls_x509_crq_get_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gnutls_x509_crq_t crq = NULL;
	unsigned char *der = NULL;
	const char *csr;
	json_error_t je;
	json_t *p, *ids;
	gnutls_datum_t d;
	char why[300];
	size_t len = 0;

	if (size > 65536)
		return 0;
	if (ctx == NULL && cm_ctx_new(&ctx) != CM_OK)
		abort();
	if ((p = json_loadb((const char *)data, size, 0, &je)) == NULL)
		return 0;
	ids = json_object_get(p, "identifiers");
	csr = json_string_value(json_object_get(p, "csr"));
	if (!json_is_array(ids) || csr == NULL ||
	    !cm__b64url_decode(&der, &len, csr, strlen(csr)) ||
	    gnutls_x509_crq_init(&crq) < 0)
		goto out;
	d.data = der;
	d.size = (unsigned)len;
	/* finalize refuses a CSR whose signature does not verify before
	 * it looks at the names; the names check runs here on every request
	 * that parses, so that mutated ones (whose signatures break) reach
	 * it too. */
	if (gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	(void)gnutls_x509_crq_verify(crq, 0);
	why[0] = '\0';
	if (cm__acme_csr_names_match(crq, ctx, ids, why, sizeof(why)))
		check_accepted(crq, ids);
	else
		FUZZ_ASSERT(why[0] != '\0' && strchr(why, '\n') == NULL);
out:
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	free(der);
	json_decref(p);
	return 0;
}
