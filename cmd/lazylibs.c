/*
 * lazylibs.c - p11-kit and libm, loaded when first called (--enable-static-
 * deps only).
 *
 * GnuTLS calls p11-kit only for PKCS#11 (a CA key on a token), and SQLite
 * calls libm only for its SQL math functions, which certmint's queries do
 * not use.  Linked as usual, both libraries (and libffi, p11-kit's own) are
 * mapped, relocated and initialised at every start: about 0.3 ms of a
 * 5 ms 'certmint issue' on the machines we measured (tests/bench/README.md).
 * Here each function GnuTLS and SQLite call is defined by a forwarder
 * that opens the library on the first call (dlopen) and jumps to the real
 * function.  The prototypes are the libraries' own headers': a change of
 * signature fails the build.  A function missing here is taken from the
 * library as usual (the link line keeps -lp11-kit and -lm behind
 * --as-needed), so a newer GnuTLS costs speed, never correctness.
 */
#include "config.h"

#include <dlfcn.h>
#include <math.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pin.h>
#include <p11-kit/uri.h>
#include <stdio.h>

typedef struct lazy_lib {
	const char *soname;
	void *handle;       /* atomic */
	int failed;         /* atomic; reported once */
} lazy_lib;

static lazy_lib p11kit = { "libp11-kit.so.0", NULL, 0 };
static lazy_lib libm = { "libm.so.6", NULL, 0 };

static void *
lazy_sym(lazy_lib *lib, const char *name)
{
	void *h = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE), *f;

	if (h == NULL) {
		/* Tried and failed once: said once, not tried again. */
		if (__atomic_load_n(&lib->failed, __ATOMIC_ACQUIRE))
			return NULL;
		/* dlopen is thread-safe and counts references: two threads
		 * racing here get the same handle. */
		h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			if (__atomic_exchange_n(&lib->failed, 1,
			    __ATOMIC_ACQ_REL) == 0)
				fprintf(stderr, "certmint: cannot load %s: %s\n",
				    lib->soname, dlerror());
			return NULL;
		}
		__atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
	}
	if ((f = dlsym(h, name)) == NULL && __atomic_exchange_n(&lib->failed,
	    1, __ATOMIC_ACQ_REL) == 0)
		fprintf(stderr, "certmint: %s has no %s\n", lib->soname, name);
	return f;
}

/* f: the real name, found once, then kept; onfail runs should its library
 * be missing.  The pointer's type is the header's declaration of name. */
#define RESOLVE(lib, name, f, onfail)                                     \
	static __typeof__(&name) fn_;                                     \
	__typeof__(&name) f = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);    \
	if (f == NULL) {                                                  \
		if ((f = (__typeof__(&name))lazy_sym(&lib, #name)) == NULL) \
			onfail;                                           \
		__atomic_store_n(&fn_, f, __ATOMIC_RELEASE);              \
	}

/* A forwarder; fail is what it gives back without its library.  (Two
 * macros: C has no "return f(x);" in a void function.) */
#define FWD(lib, ret, name, params, args, fail)                           \
	ret name params { RESOLVE(lib, name, f, return fail) return f args; }
#define FWD_VOID(lib, name, params, args)                                 \
	void name params { RESOLVE(lib, name, f, return) f args; }

/* ---- p11-kit: what GnuTLS 3.7 calls ---- */
FWD(p11kit, char *, p11_kit_config_option,
    (CK_FUNCTION_LIST *module, const char *option), (module, option), NULL)
FWD(p11kit, const char *, p11_kit_message, (void), (),
    "PKCS#11 unavailable (libp11-kit.so.0 not loaded)")
FWD(p11kit, CK_RV, p11_kit_module_finalize, (CK_FUNCTION_LIST *module),
    (module), CKR_GENERAL_ERROR)
FWD(p11kit, int, p11_kit_module_get_flags, (CK_FUNCTION_LIST *module),
    (module), 0)
FWD(p11kit, char *, p11_kit_module_get_name, (CK_FUNCTION_LIST *module),
    (module), NULL)
FWD(p11kit, CK_FUNCTION_LIST *, p11_kit_module_load,
    (const char *module_path, int flags), (module_path, flags), NULL)
FWD_VOID(p11kit, p11_kit_module_release, (CK_FUNCTION_LIST *module),
    (module))
FWD(p11kit, CK_FUNCTION_LIST **, p11_kit_modules_load,
    (const char *reserved, int flags), (reserved, flags), NULL)
FWD(p11kit, P11KitPin *, p11_kit_pin_file_callback,
    (const char *pin_source, P11KitUri *pin_uri, const char *pin_description,
    P11KitPinFlags pin_flags, void *callback_data),
    (pin_source, pin_uri, pin_description, pin_flags, callback_data), NULL)
FWD(p11kit, size_t, p11_kit_pin_get_length, (P11KitPin *pin), (pin), 0)
FWD(p11kit, const unsigned char *, p11_kit_pin_get_value,
    (P11KitPin *pin, size_t *length), (pin, length), NULL)
FWD(p11kit, P11KitPin *, p11_kit_pin_new_for_string, (const char *value),
    (value), NULL)
FWD(p11kit, int, p11_kit_pin_register_callback,
    (const char *pin_source, p11_kit_pin_callback callback,
    void *callback_data, p11_kit_pin_destroy_func callback_destroy),
    (pin_source, callback, callback_data, callback_destroy), -1)
FWD(p11kit, P11KitPin *, p11_kit_pin_request,
    (const char *pin_source, P11KitUri *pin_uri, const char *pin_description,
    P11KitPinFlags pin_flags),
    (pin_source, pin_uri, pin_description, pin_flags), NULL)
FWD_VOID(p11kit, p11_kit_pin_unref, (P11KitPin *pin), (pin))
FWD_VOID(p11kit, p11_kit_pin_unregister_callback,
    (const char *pin_source, p11_kit_pin_callback callback,
    void *callback_data), (pin_source, callback, callback_data))
FWD(p11kit, char *, p11_kit_space_strdup,
    (const unsigned char *string, size_t max_length), (string, max_length),
    NULL)
FWD(p11kit, size_t, p11_kit_space_strlen,
    (const unsigned char *string, size_t max_length), (string, max_length),
    0)
FWD(p11kit, const char *, p11_kit_strerror, (CK_RV rv), (rv),
    "PKCS#11 unavailable (libp11-kit.so.0 not loaded)")
FWD(p11kit, int, p11_kit_uri_format,
    (P11KitUri *uri, P11KitUriType uri_type, char **string),
    (uri, uri_type, string), P11_KIT_URI_NO_MEMORY)
FWD_VOID(p11kit, p11_kit_uri_free, (P11KitUri *uri), (uri))
FWD(p11kit, CK_ATTRIBUTE_PTR, p11_kit_uri_get_attribute,
    (P11KitUri *uri, CK_ATTRIBUTE_TYPE attr_type), (uri, attr_type), NULL)
FWD(p11kit, CK_ATTRIBUTE_PTR, p11_kit_uri_get_attributes,
    (P11KitUri *uri, CK_ULONG *n_attrs), (uri, n_attrs), NULL)
FWD(p11kit, CK_INFO_PTR, p11_kit_uri_get_module_info, (P11KitUri *uri),
    (uri), NULL)
FWD(p11kit, const char *, p11_kit_uri_get_pin_source, (const P11KitUri *uri),
    (uri), NULL)
FWD(p11kit, const char *, p11_kit_uri_get_pin_value, (const P11KitUri *uri),
    (uri), NULL)
FWD(p11kit, CK_TOKEN_INFO_PTR, p11_kit_uri_get_token_info, (P11KitUri *uri),
    (uri), NULL)
FWD(p11kit, int, p11_kit_uri_match_module_info,
    (const P11KitUri *uri, const CK_INFO *info), (uri, info), 0)
FWD(p11kit, int, p11_kit_uri_match_token_info,
    (const P11KitUri *uri, const CK_TOKEN_INFO *token_info),
    (uri, token_info), 0)
FWD(p11kit, P11KitUri *, p11_kit_uri_new, (void), (), NULL)
FWD(p11kit, int, p11_kit_uri_parse,
    (const char *string, P11KitUriType uri_type, P11KitUri *uri),
    (string, uri_type, uri), P11_KIT_URI_NO_MEMORY)
FWD(p11kit, int, p11_kit_uri_set_attribute,
    (P11KitUri *uri, CK_ATTRIBUTE_PTR attr), (uri, attr),
    P11_KIT_URI_NO_MEMORY)

/* ---- libm: SQLite's SQL math functions ---- */
#define MATH1(name) FWD(libm, double, name, (double x), (x), NAN)
#define MATH2(name) FWD(libm, double, name, (double x, double y), (x, y), NAN)
MATH1(acos) MATH1(acosh) MATH1(asin) MATH1(asinh) MATH1(atan)
MATH2(atan2) MATH1(atanh) MATH1(cos) MATH1(cosh) MATH1(exp) MATH2(fmod)
MATH1(log) MATH2(pow) MATH1(sin) MATH1(sinh) MATH1(sqrt) MATH1(tan)
MATH1(tanh) MATH1(trunc)
