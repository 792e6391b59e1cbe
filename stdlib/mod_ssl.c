/* _ssl, the C half of ssl (stdlib/ssl.mini is the other, as in CPython):
 * TLS over OpenSSL's libssl. _SSLContext holds an SSL_CTX (certificates,
 * verification, versions, ciphers, ALPN); _SSLSocket holds one connection's
 * SSL over the descriptor of a _socket.socket (the ssl.SSLSocket that owns
 * it), read at every call so a socket's timeout applies as it is now.
 *
 * Blocking. The descriptor is non-blocking underneath (mod_socket.c), so
 * OpenSSL returns WANT_READ/WANT_WRITE instead of blocking: a blocking or
 * timed socket then waits for readiness in thread_poll (detached, Ctrl-C
 * let through) and tries again; a non-blocking one raises
 * SSLWantReadError/SSLWantWriteError, which is what selectors-based code
 * expects. Each OpenSSL call runs detached (the GIL released: a handshake
 * or a large write is real computing) under the connection's mutex, so two
 * threads on one SSLSocket take turns with the GIL on or off.
 *
 * Errors are CPython's: "[LIB: REASON] text (_ssl.c:LINE)", where the line
 * is this file's. OpenSSL 3 no longer exports its reason mnemonics, so a
 * reason's name is its text upper-cased with '_' for ' ' (what the
 * mnemonics are, e.g. CERTIFICATE_VERIFY_FAILED). */

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/args.h"
#include "runtime/buffer.h"
#include "runtime/bytes.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/int.h"
#include "runtime/list.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/tuple.h"
#include "runtime/types.h"
#include "stdlib/builtins.h"
#include "stdlib/mod_socket.h"
#include "stdlib/modules.h"
#include "vm/gc.h"
#include "vm/interp.h"
#include "vm/sync.h"
#include "vm/thread.h"
#include "vm/vm.h"

/* CPython's protocol numbers (_SSLMethod) and error numbers. */
enum { PROTO_TLS = 2, PROTO_TLS_CLIENT = 16, PROTO_TLS_SERVER = 17 };
enum { VERSION_MIN_SUPPORTED = -2, VERSION_MAX_SUPPORTED = -1 };
enum { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED };
enum { PY_SSL_ERROR_EOF = 8 };

/* CPython 3.11's default cipher list (PY_SSL_DEFAULT_CIPHER_STRING). */
#define DEFAULT_CIPHERS "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM"

typedef struct ObjSSLContext {
    Obj obj;
    pthread_mutex_t mutex;  /* configuration changes, and SSL_new reading it */
    SSL_CTX *ctx;
    int protocol;
    _Atomic bool check_hostname; /* read by wrap_socket in other threads */
    unsigned int hostflags;
    unsigned char *alpn;    /* the server's choices, wire format */
    size_t alpn_len;
} ObjSSLContext;

typedef struct ObjSSLSocket {
    Obj obj;
    pthread_mutex_t mutex;  /* one OpenSSL call on the connection at a time */
    SSL *ssl;
    Value sock;             /* the _socket.socket whose descriptor it uses, or None */
    Value inbio, outbio;    /* else the MemoryBIOs it reads from and writes to */
    Value owner;            /* the ssl.SSLSocket, or None */
    Value context;          /* the _SSLContext */
    Value hostname;         /* server_hostname: str or None */
    bool server_side;
} ObjSSLSocket;

#define AS_CTX(v) ((ObjSSLContext *)AS_OBJ(v))
#define AS_SSLSOCK(v) ((ObjSSLSocket *)AS_OBJ(v))

/* ---- errors ---------------------------------------------------------------------- */

/* Raises type(args...) with attributes name=value (NULL-ended pairs). */
static Value raise_with(TState *ts, ObjType *type, Value *args, int nargs, const char *const *names, Value *values,
                        int nvalues) {
    if (!type) return ERROR_VAL;
    for (int i = 0; i < nargs; i++) vm_push(ts, args[i]);
    for (int i = 0; i < nvalues; i++) vm_push(ts, values[i]);
    Value exc = vm_call(ts, OBJ_VAL(type), args, nargs, NULL);
    for (int i = 0; !IS_ERROR(exc) && i < nvalues; i++)
        if (ops_setattr(ts, exc, str_intern_cstr(ts, names[i]), values[i]) < 0) exc = ERROR_VAL;
    for (int i = 0; i < nargs + nvalues; i++) vm_pop(ts);
    return IS_ERROR(exc) ? exc : err_raise(ts, exc);
}

/* type(code, "message (_ssl.c:LINE)"), as CPython's simple SSL errors. */
static Value raise_simple(TState *ts, const char *type_name, int code, const char *text, int line) {
    ObjStr *msg = str_printf(ts, "%s (_ssl.c:%d)", text, line);
    if (!msg) return ERROR_VAL;
    Value args[2] = {INT_VAL(code), OBJ_VAL(msg)};
    return raise_with(ts, module_type(ts, "_ssl", type_name), args, 2, NULL, NULL, 0);
}

static const struct {
    int lib;
    const char *name;
} lib_names[] = {
    {ERR_LIB_SSL, "SSL"},     {ERR_LIB_X509, "X509"},     {ERR_LIB_X509V3, "X509V3"}, {ERR_LIB_PEM, "PEM"},
    {ERR_LIB_ASN1, "ASN1"},   {ERR_LIB_EVP, "EVP"},       {ERR_LIB_SYS, "SYS"},       {ERR_LIB_BIO, "BIO"},
    {ERR_LIB_PKCS12, "PKCS12"}, {ERR_LIB_RSA, "RSA"},     {ERR_LIB_EC, "EC"},         {ERR_LIB_DH, "DH"},
    {ERR_LIB_BN, "BN"},       {ERR_LIB_CONF, "CONF"},     {ERR_LIB_CRYPTO, "CRYPTO"}, {ERR_LIB_PKCS7, "PKCS7"},
    {ERR_LIB_PROV, "PROV"},
};

static const char *lib_name(unsigned long code) {
    int lib = ERR_GET_LIB(code);
    for (size_t i = 0; i < sizeof lib_names / sizeof lib_names[0]; i++)
        if (lib_names[i].lib == lib) return lib_names[i].name;
    return ERR_lib_error_string(code);
}

/* The mnemonic of a library's own reason (NULL for OpenSSL's common ones,
 * as CPython's tables have none: "[SSL] PEM lib"). */
static void reason_name(unsigned long code, char *out, size_t size) {
    const char *text = ERR_reason_error_string(code);
    out[0] = '\0';
    if (!text || (ERR_GET_REASON(code) & ERR_RFLAG_COMMON) || ERR_SYSTEM_ERROR(code)) return;
    size_t i = 0;
    for (; text[i] && i + 1 < size; i++) {
        char c = text[i];
        out[i] = c == ' ' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    out[i] = '\0';
}

/* CPython's fill_and_set_sslerror: an SSLError (or type) from the OpenSSL
 * error `code`, numbered ssl_errno; for a failed verification on sock, an
 * SSLCertVerificationError naming what failed. */
static Value raise_from_code(TState *ts, ObjSSLSocket *sock, const char *type_name, int ssl_errno,
                             unsigned long code, long verify, const char *errstr, int line) {
    char reason[128] = "";
    const char *lib = NULL;
    if (code) {
        lib = lib_name(code);
        reason_name(code, reason, sizeof reason);
        if (!errstr) errstr = ERR_reason_error_string(code);
    }
    if (!errstr) errstr = "unknown error";
    bool cert_error =
        code && ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED;
    ObjStr *verify_msg = NULL;
    if (cert_error) {
        type_name = "SSLCertVerificationError";
        const char *host = sock && IS_STR(sock->hostname) ? AS_STR(sock->hostname)->data : "";
        if (verify == X509_V_ERR_HOSTNAME_MISMATCH)
            verify_msg = str_printf(ts, "Hostname mismatch, certificate is not valid for '%s'.", host);
        else if (verify == X509_V_ERR_IP_ADDRESS_MISMATCH)
            verify_msg = str_printf(ts, "IP address mismatch, certificate is not valid for '%s'.", host);
        else verify_msg = str_from_cstr(ts, X509_verify_cert_error_string(verify));
        if (!verify_msg) return ERROR_VAL;
    }
    ObjStr *msg;
    if (verify_msg && reason[0] && lib)
        msg = str_printf(ts, "[%s: %s] %s: %s (_ssl.c:%d)", lib, reason, errstr, verify_msg->data, line);
    else if (reason[0] && lib) msg = str_printf(ts, "[%s: %s] %s (_ssl.c:%d)", lib, reason, errstr, line);
    else if (lib) msg = str_printf(ts, "[%s] %s (_ssl.c:%d)", lib, errstr, line);
    else msg = str_printf(ts, "%s (_ssl.c:%d)", errstr, line);
    if (!msg) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(msg));
    if (verify_msg) vm_push(ts, OBJ_VAL(verify_msg));
    ObjStr *r = reason[0] ? str_from_cstr(ts, reason) : NULL;
    ObjStr *l = lib ? str_from_cstr(ts, lib) : NULL;
    /* CPython's errno is the reason part of the number. */
    Value args[2] = {int_from_i64(ts, ERR_GET_REASON((unsigned long)ssl_errno)), OBJ_VAL(msg)};
    static const char *const names[] = {"reason", "library", "verify_code", "verify_message"};
    Value values[4] = {r ? OBJ_VAL(r) : NONE_VAL, l ? OBJ_VAL(l) : NONE_VAL, int_from_i64(ts, verify),
                       verify_msg ? OBJ_VAL(verify_msg) : NONE_VAL};
    Value out = (reason[0] && !r) || (lib && !l) ? ERROR_VAL
                : raise_with(ts, module_type(ts, "_ssl", type_name), args, 2, names, values, verify_msg ? 4 : 2);
    if (verify_msg) vm_pop(ts);
    vm_pop(ts);
    ERR_clear_error();
    return out;
}

/* An error of a context operation (loading certificates...): OSError for
 * a system error, else SSLError numbered by the OpenSSL code, as CPython's
 * _setSSLError. */
static Value raise_lib_error(TState *ts, int line) {
    unsigned long code = ERR_peek_last_error();
    if (code && ERR_SYSTEM_ERROR(code)) {
        ERR_clear_error();
        return file_raise_oserror(ts, ERR_GET_REASON(code), NONE_VAL);
    }
    return raise_from_code(ts, NULL, "SSLError", (int)code, code, 0, NULL, line);
}

/* ---- certificates as dicts --------------------------------------------------------- */

/* Text printed by an OpenSSL function into a memory BIO. */
static ObjStr *bio_text(TState *ts, BIO *bio) {
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    ObjStr *s = str_new(ts, data, n > 0 ? (size_t)n : 0);
    BIO_free(bio);
    return s;
}

static ObjStr *asn1_string(TState *ts, const ASN1_STRING *a) {
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, a);
    if (n < 0) return str_from_cstr(ts, "");
    ObjStr *s = str_new(ts, (const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return s;
}

static Value pair(TState *ts, Value a, Value b) {
    Value items[2] = {a, b};
    ObjTuple *t = tuple_from(ts, items, 2);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value list_to_tuple(TState *ts, ObjList *l) {
    size_t n = list_len(l);
    ObjTuple *t = tuple_new(ts, n);
    if (!t) return ERROR_VAL;
    for (size_t i = 0; i < n; i++) t->items[i] = list_get(l, i);
    return OBJ_VAL(t);
}

/* ((('countryName', 'XY'),), (('commonName', 'x'),)): one tuple per RDN. */
static Value name_value(TState *ts, const X509_NAME *name) {
    ObjList *rdns = list_new(ts, 0), *rdn = list_new(ts, 0);
    if (!rdns || !rdn) return ERROR_VAL;
    int last_set = -1;
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int set = X509_NAME_ENTRY_set(e);
        if (set != last_set && list_len(rdn)) {
            Value t = list_to_tuple(ts, rdn);
            if (IS_ERROR(t) || list_append(ts, rdns, t) < 0 || !(rdn = list_new(ts, 0))) return ERROR_VAL;
        }
        last_set = set;
        char key[128];
        OBJ_obj2txt(key, sizeof key, X509_NAME_ENTRY_get_object(e), 0);
        ObjStr *k = str_from_cstr(ts, key), *v = asn1_string(ts, X509_NAME_ENTRY_get_data(e));
        Value p = k && v ? pair(ts, OBJ_VAL(k), OBJ_VAL(v)) : ERROR_VAL;
        if (IS_ERROR(p) || list_append(ts, rdn, p) < 0) return ERROR_VAL;
    }
    if (list_len(rdn)) {
        Value t = list_to_tuple(ts, rdn);
        if (IS_ERROR(t) || list_append(ts, rdns, t) < 0) return ERROR_VAL;
    }
    return list_to_tuple(ts, rdns);
}

/* One subjectAltName entry as CPython names it. */
static Value general_name(TState *ts, const GENERAL_NAME *g) {
    const char *kind;
    ObjStr *v = NULL;
    Value value = EMPTY_VAL;
    switch (g->type) {
    case GEN_DNS: kind = "DNS"; v = asn1_string(ts, g->d.dNSName); break;
    case GEN_EMAIL: kind = "email"; v = asn1_string(ts, g->d.rfc822Name); break;
    case GEN_URI: kind = "URI"; v = asn1_string(ts, g->d.uniformResourceIdentifier); break;
    case GEN_DIRNAME: kind = "DirName"; value = name_value(ts, g->d.directoryName); break;
    case GEN_RID: {
        char txt[128];
        kind = "Registered ID";
        OBJ_obj2txt(txt, sizeof txt, g->d.registeredID, 1);
        v = str_from_cstr(ts, txt);
        break;
    }
    case GEN_IPADD: {
        const unsigned char *p = ASN1_STRING_get0_data(g->d.iPAddress);
        int n = ASN1_STRING_length(g->d.iPAddress);
        kind = "IP Address";
        if (n == 4) v = str_printf(ts, "%d.%d.%d.%d", p[0], p[1], p[2], p[3]);
        else if (n == 16)
            v = str_printf(ts, "%X:%X:%X:%X:%X:%X:%X:%X", p[0] << 8 | p[1], p[2] << 8 | p[3], p[4] << 8 | p[5],
                           p[6] << 8 | p[7], p[8] << 8 | p[9], p[10] << 8 | p[11], p[12] << 8 | p[13],
                           p[14] << 8 | p[15]);
        else v = str_from_cstr(ts, "<invalid>");
        break;
    }
    case GEN_OTHERNAME: kind = "othername"; v = str_from_cstr(ts, "<unsupported>"); break;
    case GEN_X400: kind = "X400Name"; v = str_from_cstr(ts, "<unsupported>"); break;
    default: kind = "EdiPartyName"; v = str_from_cstr(ts, "<unsupported>"); break;
    }
    if (IS_EMPTY(value)) value = v ? OBJ_VAL(v) : ERROR_VAL;
    ObjStr *k = str_from_cstr(ts, kind);
    if (IS_ERROR(value) || !k) return ERROR_VAL;
    return pair(ts, OBJ_VAL(k), value);
}

static bool set_item(TState *ts, ObjDict *d, const char *key, Value v) {
    return !IS_ERROR(v) && dict_set_str(ts, d, str_intern_cstr(ts, key), v) == 0;
}

/* The URIs of an authority-information-access method (OCSP, caIssuers). */
static bool aia_item(TState *ts, ObjDict *d, const char *key, AUTHORITY_INFO_ACCESS *aia, int nid) {
    ObjList *l = list_new(ts, 0);
    if (!l) return false;
    for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        if (OBJ_obj2nid(ad->method) != nid || ad->location->type != GEN_URI) continue;
        ObjStr *s = asn1_string(ts, ad->location->d.uniformResourceIdentifier);
        if (!s || list_append(ts, l, OBJ_VAL(s)) < 0) return false;
    }
    return !list_len(l) || set_item(ts, d, key, list_to_tuple(ts, l));
}

/* CPython's _decode_certificate: the dict getpeercert() returns. */
static Value cert_dict(TState *ts, X509 *cert) {
    ObjDict *d = dict_new(ts);
    if (!d) return ERROR_VAL;
    if (!set_item(ts, d, "subject", name_value(ts, X509_get_subject_name(cert))) ||
        !set_item(ts, d, "issuer", name_value(ts, X509_get_issuer_name(cert))) ||
        !set_item(ts, d, "version", INT_VAL(X509_get_version(cert) + 1)))
        return ERROR_VAL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return err_no_memory(ts);
    i2a_ASN1_INTEGER(bio, X509_get0_serialNumber(cert));
    ObjStr *serial = bio_text(ts, bio);
    if (!serial || !set_item(ts, d, "serialNumber", OBJ_VAL(serial))) return ERROR_VAL;
    const ASN1_TIME *times[2] = {X509_get0_notBefore(cert), X509_get0_notAfter(cert)};
    const char *time_keys[2] = {"notBefore", "notAfter"};
    for (int i = 0; i < 2; i++) {
        if (!(bio = BIO_new(BIO_s_mem()))) return err_no_memory(ts);
        ASN1_TIME_print(bio, times[i]);
        ObjStr *t = bio_text(ts, bio);
        if (!t || !set_item(ts, d, time_keys[i], OBJ_VAL(t))) return ERROR_VAL;
    }
    GENERAL_NAMES *alt = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (alt) {
        ObjList *l = list_new(ts, 0);
        bool ok = l != NULL;
        for (int i = 0; ok && i < sk_GENERAL_NAME_num(alt); i++) {
            Value p = general_name(ts, sk_GENERAL_NAME_value(alt, i));
            ok = !IS_ERROR(p) && list_append(ts, l, p) == 0;
        }
        GENERAL_NAMES_free(alt);
        if (!ok || !set_item(ts, d, "subjectAltName", list_to_tuple(ts, l))) return ERROR_VAL;
    }
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
    bool ok = aia_item(ts, d, "OCSP", aia, NID_ad_OCSP) && aia_item(ts, d, "caIssuers", aia, NID_ad_ca_issuers);
    AUTHORITY_INFO_ACCESS_free(aia);
    if (!ok) return ERROR_VAL;
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    if (dps) {
        ObjList *l = list_new(ts, 0);
        ok = l != NULL;
        for (int i = 0; ok && i < sk_DIST_POINT_num(dps); i++) {
            DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
            if (!dp->distpoint || dp->distpoint->type != 0) continue;
            GENERAL_NAMES *names = dp->distpoint->name.fullname;
            for (int j = 0; ok && j < sk_GENERAL_NAME_num(names); j++) {
                GENERAL_NAME *g = sk_GENERAL_NAME_value(names, j);
                if (g->type != GEN_URI) continue;
                ObjStr *s = asn1_string(ts, g->d.uniformResourceIdentifier);
                ok = s && list_append(ts, l, OBJ_VAL(s)) == 0;
            }
        }
        CRL_DIST_POINTS_free(dps);
        if (!ok || (list_len(l) && !set_item(ts, d, "crlDistributionPoints", list_to_tuple(ts, l)))) return ERROR_VAL;
    }
    return OBJ_VAL(d);
}

static Value cert_der(TState *ts, X509 *cert) {
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    if (n < 0) return raise_lib_error(ts, __LINE__);
    ObjBytes *b = bytes_new(ts, (const char *)der, (size_t)n);
    OPENSSL_free(der);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

/* _test_decode_cert(path): the dict of a PEM certificate file. */
static Value f_test_decode_cert(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "_test_decode_cert", nargs, kwnames, 1, 1)) return ERROR_VAL;
    Value path = file_fspath(ts, args[0]);
    if (IS_ERROR(path)) return path;
    const char *p = IS_STR(path) ? AS_STR(path)->data : AS_BYTES(path)->data;
    BIO *bio = BIO_new_file(p, "r");
    if (!bio) return raise_simple(ts, "SSLError", 0, "Can't open file", __LINE__);
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!cert) return raise_simple(ts, "SSLError", 0, "Error decoding PEM-encoded file", __LINE__);
    Value d = cert_dict(ts, cert);
    X509_free(cert);
    return d;
}

/* ---- the context ---------------------------------------------------------------------- */

static void ctx_finalize(Obj *self) {
    ObjSSLContext *c = (ObjSSLContext *)self;
    PT_CHECK(pthread_mutex_destroy(&c->mutex));
    SSL_CTX_free(c->ctx);
    free(c->alpn);
}

static void ctx_after_fork(Obj *self) { PT_CHECK(pthread_mutex_init(&((ObjSSLContext *)self)->mutex, NULL)); }

/* The server's ALPN choice: its first protocol the client offers too.
 * *out points into the client's list (OpenSSL's memory), not into ours,
 * which set_alpn_protocols may replace from another thread. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
    (void)ssl;
    ObjSSLContext *c = arg;
    int r = OPENSSL_NPN_NO_OVERLAP;
    unsigned char *chosen = NULL, len = 0;
    MUTEX_LOCK(&c->mutex);
    if (c->alpn) r = SSL_select_next_proto(&chosen, &len, c->alpn, (unsigned int)c->alpn_len, in, inlen);
    for (unsigned int i = 0; r == OPENSSL_NPN_NEGOTIATED && i < inlen; i += 1u + in[i]) {
        if (in[i] == len && i + 1u + len <= inlen && memcmp(in + i + 1, chosen, len) == 0) {
            *out = in + i + 1;
            *outlen = len;
            MUTEX_UNLOCK(&c->mutex);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    MUTEX_UNLOCK(&c->mutex);
    return SSL_TLSEXT_ERR_NOACK;
}

static Value ctx_type_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"protocol"};
    Value v[1];
    int64_t protocol;
    if (!args_bind(ts, "_SSLContext", args, nargs, kwnames, names, 1, 1, 1, v) || !args_int(ts, v[0], &protocol))
        return ERROR_VAL;
    const SSL_METHOD *method = protocol == PROTO_TLS_CLIENT ? TLS_client_method()
                               : protocol == PROTO_TLS_SERVER ? TLS_server_method()
                               : protocol == PROTO_TLS ? TLS_method() : NULL;
    if (!method)
        return err_format(ts, ts->interp->exc.ValueError, "invalid or unsupported protocol version %lld",
                          (long long)protocol);
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx) return raise_lib_error(ts, __LINE__);
    ObjSSLContext *c = (ObjSSLContext *)gc_alloc(ts, sizeof(ObjSSLContext), OBJ_OPAQUE, type);
    if (!c) {
        SSL_CTX_free(ctx);
        return ERROR_VAL;
    }
    PT_CHECK(pthread_mutex_init(&c->mutex, NULL));
    c->ctx = ctx;
    c->protocol = (int)protocol;
    c->alpn = NULL;
    c->alpn_len = 0;
    c->hostflags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
    bool client = protocol == PROTO_TLS_CLIENT;
    atomic_init(&c->check_hostname, client);
    SSL_CTX_set_verify(ctx, client ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE, NULL);
    /* CPython 3.10+: TLS 1.2 at least; OP_ALL without the empty fragments. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_clear_options(ctx, SSL_CTX_get_options(ctx));
    SSL_CTX_set_options(ctx, (SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS) | SSL_OP_NO_SSLv3 |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_SINGLE_DH_USE | SSL_OP_SINGLE_ECDH_USE | SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"Python", 6);
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_TRUSTED_FIRST);
    X509_VERIFY_PARAM_set_hostflags(param, c->hostflags);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, c);
    if (!SSL_CTX_set_cipher_list(ctx, DEFAULT_CIPHERS))
        return err_set_str(ts, ts->interp->exc.ValueError, "No cipher can be selected.");
    return OBJ_VAL(c);
}

#define CTX AS_CTX(args[0])

static Value ctx_set_ciphers(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set_ciphers", 1, 1);
    ObjStr *spec;
    if (!args_str(ts, args[1], "set_ciphers", &spec)) return ERROR_VAL;
    thread_lock_mutex(ts, &CTX->mutex);
    int ok = SSL_CTX_set_cipher_list(CTX->ctx, spec->data);
    MUTEX_UNLOCK(&CTX->mutex);
    if (ok) return NONE_VAL;
    ERR_clear_error();
    ObjStr *msg = str_from_cstr(ts, "No cipher can be selected.");
    if (!msg) return ERROR_VAL;
    Value a = OBJ_VAL(msg);
    return raise_with(ts, module_type(ts, "_ssl", "SSLError"), &a, 1, NULL, NULL, 0);
}

/* A path argument (str, bytes or os.PathLike) as a C string, or NULL for
 * None/absent; *ok false after raising. Keeps the value in *keep. */
static const char *path_arg(TState *ts, Value v, Value *keep, bool *ok) {
    *ok = true;
    if (IS_EMPTY(v) || IS_NONE(v)) return NULL;
    Value p = file_fspath(ts, v);
    if (IS_ERROR(p)) {
        *ok = false;
        return NULL;
    }
    *keep = p;
    return IS_STR(p) ? AS_STR(p)->data : AS_BYTES(p)->data;
}

typedef struct Password {
    const char *data;
    size_t len;
    int too_long;  /* 0, or OpenSSL's limit when the password exceeded it */
} Password;

static int password_cb(char *buf, int size, int rwflag, void *userdata) {
    (void)rwflag;
    Password *pw = userdata;
    if (!pw->data) return -1;
    if (pw->len > (size_t)size) {
        pw->too_long = size;
        return -1;
    }
    memcpy(buf, pw->data, pw->len);
    return (int)pw->len;
}

/* load_cert_chain(certfile, keyfile=None, password=None): password is
 * str or bytes here (ssl.mini calls a callable first). */
static Value ctx_load_cert_chain(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "certfile", "keyfile", "password"};
    Value v[4];
    if (!args_bind(ts, "load_cert_chain", args, nargs, kwnames, names, 4, 2, 4, v)) return ERROR_VAL;
    Value keep1 = NONE_VAL, keep2 = NONE_VAL;
    bool ok1, ok2;
    const char *certfile = path_arg(ts, v[1], &keep1, &ok1);
    if (!ok1) return ERROR_VAL;
    vm_push(ts, keep1);
    const char *keyfile = path_arg(ts, v[2], &keep2, &ok2);
    vm_pop(ts);
    if (!ok2) return ERROR_VAL;
    if (!certfile) return err_set_str(ts, ts->interp->exc.TypeError, "certfile should be a valid filesystem path");
    if (!keyfile) keyfile = certfile;
    Password pw = {NULL, 0, 0};
    if (!IS_EMPTY(v[3]) && !IS_NONE(v[3])) {
        if (IS_STR(v[3])) pw.data = AS_STR(v[3])->data, pw.len = AS_STR(v[3])->len;
        else if (IS_BYTES(v[3])) pw.data = AS_BYTES(v[3])->data, pw.len = AS_BYTES(v[3])->len;
        else return err_set_str(ts, ts->interp->exc.TypeError, "password should be a string or callable");
    }
    ObjSSLContext *c = AS_CTX(v[0]);
    thread_lock_mutex(ts, &c->mutex);
    /* Without a password OpenSSL asks on the terminal, as under CPython. */
    if (pw.data) {
        SSL_CTX_set_default_passwd_cb(c->ctx, password_cb);
        SSL_CTX_set_default_passwd_cb_userdata(c->ctx, &pw);
    }
    ERR_clear_error();
    errno = 0;
    int stage = 0;
    if (SSL_CTX_use_certificate_chain_file(c->ctx, certfile) != 1) stage = 1;
    else if (SSL_CTX_use_PrivateKey_file(c->ctx, keyfile, SSL_FILETYPE_PEM) != 1) stage = 2;
    else if (SSL_CTX_check_private_key(c->ctx) != 1) stage = 3;
    int err = errno;
    SSL_CTX_set_default_passwd_cb(c->ctx, NULL);
    SSL_CTX_set_default_passwd_cb_userdata(c->ctx, NULL);
    MUTEX_UNLOCK(&c->mutex);
    if (!stage) return NONE_VAL;
    if (pw.too_long) {
        ERR_clear_error();
        return err_format(ts, ts->interp->exc.ValueError, "password cannot be longer than %d bytes", pw.too_long);
    }
    if (stage < 3 && err != 0) {
        ERR_clear_error();
        return file_raise_oserror(ts, err, NONE_VAL);
    }
    return raise_lib_error(ts, __LINE__);
}

/* cadata: PEM text (str) or DER bytes, one or more certificates. */
static Value load_cadata(TState *ts, ObjSSLContext *c, Value data) {
    Buffer view;
    bool pem = IS_STR(data);
    const char *p;
    size_t n;
    if (pem) {
        p = AS_STR(data)->data, n = AS_STR(data)->len;
    } else if (buffer_check(ts, data)) {
        if (!buffer_get(ts, data, &view, BUF_READ)) return ERROR_VAL;
        p = view.buf, n = view.len;
    } else {
        return err_set_str(ts, ts->interp->exc.TypeError, "cadata should be an ASCII string or a bytes-like object");
    }
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    if (!bio) {
        if (!pem) buffer_release(ts, &view);
        return err_no_memory(ts);
    }
    thread_lock_mutex(ts, &c->mutex);
    X509_STORE *store = SSL_CTX_get_cert_store(c->ctx);
    int loaded = 0;
    unsigned long code = 0;
    ERR_clear_error();
    for (;;) {
        X509 *cert = pem ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : d2i_X509_bio(bio, NULL);
        if (!cert) break;
        if (!X509_STORE_add_cert(store, cert)) {
            code = ERR_peek_last_error();
            if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
                ERR_clear_error();
                code = 0;
            } else {
                X509_free(cert);
                break;
            }
        }
        X509_free(cert);
        loaded++;
    }
    MUTEX_UNLOCK(&c->mutex);
    BIO_free(bio);
    if (!pem) buffer_release(ts, &view);
    if (code) return raise_lib_error(ts, __LINE__);
    code = ERR_peek_last_error();
    bool at_end = loaded > 0 && (pem ? ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE
                                      : ERR_GET_LIB(code) == ERR_LIB_ASN1 || code == 0);
    if (at_end) {
        ERR_clear_error();
        return NONE_VAL;
    }
    if (loaded == 0) {
        const char *what = pem ? "no start line: cadata does not contain a certificate"
                               : "not enough data: cadata does not contain a certificate";
        ERR_clear_error();
        return raise_simple(ts, "SSLError", 0, what, __LINE__);
    }
    return raise_lib_error(ts, __LINE__);
}

static Value ctx_load_verify_locations(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "cafile", "capath", "cadata"};
    Value v[4];
    if (!args_bind(ts, "load_verify_locations", args, nargs, kwnames, names, 4, 1, 4, v)) return ERROR_VAL;
    ObjSSLContext *c = AS_CTX(v[0]);
    bool none[3];
    for (int i = 0; i < 3; i++) none[i] = IS_EMPTY(v[1 + i]) || IS_NONE(v[1 + i]);
    if (none[0] && none[1] && none[2])
        return err_set_str(ts, ts->interp->exc.TypeError, "cafile, capath and cadata cannot be all omitted");
    if (!none[0] && !IS_STR(v[1]) && !IS_BYTES(v[1]) && IS_ERROR(file_fspath(ts, v[1]))) {
        err_fetch(ts);
        return err_set_str(ts, ts->interp->exc.TypeError, "cafile should be a valid filesystem path");
    }
    if (!none[1] && !IS_STR(v[2]) && !IS_BYTES(v[2]) && IS_ERROR(file_fspath(ts, v[2]))) {
        err_fetch(ts);
        return err_set_str(ts, ts->interp->exc.TypeError, "capath should be a valid filesystem path");
    }
    if (!none[2]) {
        Value r = load_cadata(ts, c, v[3]);
        if (IS_ERROR(r)) return r;
    }
    if (none[0] && none[1]) return NONE_VAL;
    Value keep1 = NONE_VAL, keep2 = NONE_VAL;
    bool ok;
    const char *cafile = path_arg(ts, v[1], &keep1, &ok);
    if (!ok) return ERROR_VAL;
    vm_push(ts, keep1);
    const char *capath = path_arg(ts, v[2], &keep2, &ok);
    vm_pop(ts);
    if (!ok) return ERROR_VAL;
    thread_lock_mutex(ts, &c->mutex);
    ERR_clear_error();
    errno = 0;
    int r = SSL_CTX_load_verify_locations(c->ctx, cafile, capath);
    int err = errno;
    MUTEX_UNLOCK(&c->mutex);
    if (r == 1) return NONE_VAL;
    if (err != 0) {
        ERR_clear_error();
        return file_raise_oserror(ts, err, NONE_VAL);
    }
    return raise_lib_error(ts, __LINE__);
}

static Value ctx_set_default_verify_paths(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set_default_verify_paths", 0, 0);
    thread_lock_mutex(ts, &CTX->mutex);
    int r = SSL_CTX_set_default_verify_paths(CTX->ctx);
    MUTEX_UNLOCK(&CTX->mutex);
    return r == 1 ? NONE_VAL : raise_lib_error(ts, __LINE__);
}

/* _set_alpn_protocols(wire): ssl.mini builds the length-prefixed list. */
static Value ctx_set_alpn_protocols(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("_set_alpn_protocols", 1, 1);
    Buffer view;
    if (!buffer_get(ts, args[1], &view, BUF_READ)) return ERROR_VAL;
    unsigned char *copy = malloc(view.len ? view.len : 1);
    if (!copy) {
        buffer_release(ts, &view);
        return err_no_memory(ts);
    }
    memcpy(copy, view.buf, view.len);
    size_t n = view.len;
    buffer_release(ts, &view);
    thread_lock_mutex(ts, &CTX->mutex);
    free(CTX->alpn);
    CTX->alpn = copy;
    CTX->alpn_len = n;
    int r = SSL_CTX_set_alpn_protos(CTX->ctx, copy, (unsigned int)n);
    MUTEX_UNLOCK(&CTX->mutex);
    return r == 0 ? NONE_VAL : err_no_memory(ts);
}

static Value ctx_cert_store_stats(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("cert_store_stats", 0, 0);
    int64_t x509 = 0, crl = 0, ca = 0;
    thread_lock_mutex(ts, &CTX->mutex);
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(CTX->ctx));
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
        if (X509_OBJECT_get_type(o) == X509_LU_X509) {
            x509++;
            if (X509_check_ca(X509_OBJECT_get0_X509(o))) ca++;
        } else if (X509_OBJECT_get_type(o) == X509_LU_CRL) {
            crl++;
        }
    }
    MUTEX_UNLOCK(&CTX->mutex);
    ObjDict *d = dict_new(ts);
    if (!d || !set_item(ts, d, "x509", INT_VAL(x509)) || !set_item(ts, d, "crl", INT_VAL(crl)) ||
        !set_item(ts, d, "x509_ca", INT_VAL(ca)))
        return ERROR_VAL;
    return OBJ_VAL(d);
}

/* get_ca_certs(binary_form=False): the CA certificates loaded. */
static Value ctx_get_ca_certs(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "binary_form"};
    Value v[2];
    if (!args_bind(ts, "get_ca_certs", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    int binary = IS_EMPTY(v[1]) ? 0 : ops_truth(ts, v[1]);
    if (binary < 0) return ERROR_VAL;
    ObjList *out = list_new(ts, 0);
    if (!out) return ERROR_VAL;
    ObjSSLContext *c = AS_CTX(v[0]);
    bool ok = true;
    /* Allocation does not collect, so the list is built under the mutex. */
    thread_lock_mutex(ts, &c->mutex);
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(c->ctx));
    for (int i = 0; ok && i < sk_X509_OBJECT_num(objs); i++) {
        X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
        if (X509_OBJECT_get_type(o) != X509_LU_X509 || !X509_check_ca(X509_OBJECT_get0_X509(o))) continue;
        X509 *cert = X509_OBJECT_get0_X509(o);
        Value item = binary ? cert_der(ts, cert) : cert_dict(ts, cert);
        ok = !IS_ERROR(item) && list_append(ts, out, item) == 0;
    }
    MUTEX_UNLOCK(&c->mutex);
    return ok ? OBJ_VAL(out) : ERROR_VAL;
}

static bool int_setting(TState *ts, Value v, int64_t *out) {
    if (IS_EMPTY(v)) {
        err_set_str(ts, ts->interp->exc.AttributeError, "cannot delete attribute");
        return false;
    }
    return args_int(ts, v, out);
}

/* get_ciphers(): the enabled ciphers as CPython's dicts. */
static Value cipher_dict(TState *ts, const SSL_CIPHER *c) {
    char desc[256];
    int alg_bits = 0;
    int strength = SSL_CIPHER_get_bits(c, &alg_bits);
    SSL_CIPHER_description(c, desc, sizeof desc);
    size_t n = strlen(desc);
    while (n && (desc[n - 1] == '\n' || desc[n - 1] == ' ')) desc[--n] = '\0';
    int nids[4] = {SSL_CIPHER_get_cipher_nid(c), SSL_CIPHER_get_digest_nid(c), SSL_CIPHER_get_kx_nid(c),
                   SSL_CIPHER_get_auth_nid(c)};
    static const char *const nid_keys[4] = {"symmetric", "digest", "kea", "auth"};
    ObjDict *d = dict_new(ts);
    ObjStr *name = str_from_cstr(ts, SSL_CIPHER_get_name(c)), *proto = str_from_cstr(ts, SSL_CIPHER_get_version(c));
    ObjStr *text = str_from_cstr(ts, desc);
    if (!d || !name || !proto || !text || !set_item(ts, d, "id", int_from_u64(ts, SSL_CIPHER_get_id(c))) ||
        !set_item(ts, d, "name", OBJ_VAL(name)) || !set_item(ts, d, "protocol", OBJ_VAL(proto)) ||
        !set_item(ts, d, "description", OBJ_VAL(text)) || !set_item(ts, d, "strength_bits", INT_VAL(strength)) ||
        !set_item(ts, d, "alg_bits", INT_VAL(alg_bits)) || !set_item(ts, d, "aead", BOOL_VAL(SSL_CIPHER_is_aead(c))))
        return ERROR_VAL;
    for (int i = 0; i < 4; i++) {
        const char *ln = nids[i] != NID_undef ? OBJ_nid2ln(nids[i]) : NULL;
        ObjStr *v = ln ? str_from_cstr(ts, ln) : NULL;
        if ((ln && !v) || !set_item(ts, d, nid_keys[i], v ? OBJ_VAL(v) : NONE_VAL)) return ERROR_VAL;
    }
    return OBJ_VAL(d);
}

static Value ctx_get_ciphers(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("get_ciphers", 0, 0);
    ObjList *out = list_new(ts, 0);
    if (!out) return ERROR_VAL;
    thread_lock_mutex(ts, &CTX->mutex);
    SSL *ssl = SSL_new(CTX->ctx);
    MUTEX_UNLOCK(&CTX->mutex);
    if (!ssl) return raise_lib_error(ts, __LINE__);
    STACK_OF(SSL_CIPHER) *ciphers = SSL_get_ciphers(ssl);
    bool ok = true;
    for (int i = 0; ok && i < sk_SSL_CIPHER_num(ciphers); i++) {
        Value d = cipher_dict(ts, sk_SSL_CIPHER_value(ciphers, i));
        ok = !IS_ERROR(d) && list_append(ts, out, d) == 0;
    }
    SSL_free(ssl);
    return ok ? OBJ_VAL(out) : ERROR_VAL;
}

/* set_ecdh_curve(name): the one group for ECDH key exchange. */
static Value ctx_set_ecdh_curve(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("set_ecdh_curve", 1, 1);
    ObjStr *name;
    if (IS_BYTES(args[1])) name = NULL;
    else if (!args_str(ts, args[1], "set_ecdh_curve", &name)) return ERROR_VAL;
    const char *text = name ? name->data : AS_BYTES(args[1])->data;
    int nid = OBJ_sn2nid(text);
    if (nid == NID_undef) {
        ObjStr *r = str_repr(ts, name ? name : str_from_cstr(ts, text));
        return r ? err_format(ts, ts->interp->exc.ValueError, "unknown elliptic curve name %s", r->data) : ERROR_VAL;
    }
    thread_lock_mutex(ts, &CTX->mutex);
    int ok = SSL_CTX_set1_groups(CTX->ctx, &nid, 1);
    MUTEX_UNLOCK(&CTX->mutex);
    return ok ? NONE_VAL : raise_lib_error(ts, __LINE__);
}

/* load_dh_params(path): Diffie-Hellman parameters from a PEM file. */
static Value ctx_load_dh_params(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("load_dh_params", 1, 1);
    Value keep = NONE_VAL;
    bool ok;
    const char *path = path_arg(ts, args[1], &keep, &ok);
    if (!ok) return ERROR_VAL;
    if (!path) return err_set_str(ts, ts->interp->exc.TypeError, "path should be a valid filesystem path");
    errno = 0;
    BIO *bio = BIO_new_file(path, "r");
    if (!bio) {
        int err = errno;
        ERR_clear_error();
        return file_raise_oserror(ts, err ? err : ENOENT, NONE_VAL);
    }
    EVP_PKEY *dh = PEM_read_bio_Parameters(bio, NULL);
    BIO_free(bio);
    if (!dh) return raise_lib_error(ts, __LINE__);
    thread_lock_mutex(ts, &CTX->mutex);
    int r = SSL_CTX_set0_tmp_dh_pkey(CTX->ctx, dh);
    MUTEX_UNLOCK(&CTX->mutex);
    if (!r) {
        EVP_PKEY_free(dh);
        return raise_lib_error(ts, __LINE__);
    }
    return NONE_VAL;
}

static Value ctx_session_stats(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("session_stats", 0, 0);
    SSL_CTX *c = CTX->ctx;
    const char *keys[] = {"number", "connect", "connect_good", "connect_renegotiate", "accept", "accept_good",
                          "accept_renegotiate", "hits", "misses", "timeouts", "cache_full"};
    long values[] = {SSL_CTX_sess_number(c), SSL_CTX_sess_connect(c), SSL_CTX_sess_connect_good(c),
                     SSL_CTX_sess_connect_renegotiate(c), SSL_CTX_sess_accept(c), SSL_CTX_sess_accept_good(c),
                     SSL_CTX_sess_accept_renegotiate(c), SSL_CTX_sess_hits(c), SSL_CTX_sess_misses(c),
                     SSL_CTX_sess_timeouts(c), SSL_CTX_sess_cache_full(c)};
    ObjDict *d = dict_new(ts);
    if (!d) return ERROR_VAL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!set_item(ts, d, keys[i], INT_VAL(values[i]))) return ERROR_VAL;
    return OBJ_VAL(d);
}

static Value ctx_get_num_tickets(TState *ts, Value self) {
    (void)ts;
    return INT_VAL((int64_t)SSL_CTX_get_num_tickets(AS_CTX(self)->ctx));
}

static int ctx_set_num_tickets(TState *ts, Value self, Value v) {
    int64_t n;
    if (!int_setting(ts, v, &n)) return -1;
    ObjSSLContext *c = AS_CTX(self);
    if (n < 0) {
        err_set_str(ts, ts->interp->exc.ValueError, "value must be non-negative");
        return -1;
    }
    if (c->protocol != PROTO_TLS_SERVER) {
        err_set_str(ts, ts->interp->exc.ValueError, "SSLContext is not a server context.");
        return -1;
    }
    thread_lock_mutex(ts, &c->mutex);
    SSL_CTX_set_num_tickets(c->ctx, (size_t)n);
    MUTEX_UNLOCK(&c->mutex);
    return 0;
}

static Value ctx_get_verify_mode(TState *ts, Value self) {
    (void)ts;
    int mode = SSL_CTX_get_verify_mode(AS_CTX(self)->ctx);
    if (mode & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) return INT_VAL(CERT_REQUIRED);
    return INT_VAL(mode & SSL_VERIFY_PEER ? CERT_OPTIONAL : CERT_NONE);
}


static int set_verify_mode(TState *ts, ObjSSLContext *c, int64_t n) {
    int mode = n == CERT_NONE ? SSL_VERIFY_NONE
               : n == CERT_OPTIONAL ? SSL_VERIFY_PEER
               : n == CERT_REQUIRED ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : -1;
    if (mode < 0) {
        err_set_str(ts, ts->interp->exc.ValueError, "invalid value for verify_mode");
        return -1;
    }
    thread_lock_mutex(ts, &c->mutex);
    SSL_CTX_set_verify(c->ctx, mode, NULL);
    MUTEX_UNLOCK(&c->mutex);
    return 0;
}

static int ctx_set_verify_mode(TState *ts, Value self, Value v) {
    int64_t n;
    if (!int_setting(ts, v, &n)) return -1;
    if (n == CERT_NONE && atomic_load(&AS_CTX(self)->check_hostname)) {
        err_set_str(ts, ts->interp->exc.ValueError,
                    "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
        return -1;
    }
    return set_verify_mode(ts, AS_CTX(self), n);
}

static Value ctx_get_check_hostname(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(atomic_load(&AS_CTX(self)->check_hostname));
}

static int ctx_set_check_hostname(TState *ts, Value self, Value v) {
    if (IS_EMPTY(v)) {
        err_set_str(ts, ts->interp->exc.AttributeError, "cannot delete attribute");
        return -1;
    }
    int on = ops_truth(ts, v);
    if (on < 0) return -1;
    ObjSSLContext *c = AS_CTX(self);
    /* Checking the name needs a verified certificate: CERT_REQUIRED. */
    if (on && SSL_CTX_get_verify_mode(c->ctx) == SSL_VERIFY_NONE && set_verify_mode(ts, c, CERT_REQUIRED) < 0)
        return -1;
    atomic_store(&c->check_hostname, on);
    return 0;
}

static Value ctx_get_options(TState *ts, Value self) {
    return int_from_u64(ts, SSL_CTX_get_options(AS_CTX(self)->ctx));
}

static int ctx_set_options(TState *ts, Value self, Value v) {
    if (IS_EMPTY(v)) {
        err_set_str(ts, ts->interp->exc.AttributeError, "cannot delete attribute");
        return -1;
    }
    int64_t n;
    if (!args_int(ts, v, &n)) return -1;
    ObjSSLContext *c = AS_CTX(self);
    thread_lock_mutex(ts, &c->mutex);
    uint64_t old = SSL_CTX_get_options(c->ctx), want = (uint64_t)n;
    SSL_CTX_clear_options(c->ctx, old & ~want);
    SSL_CTX_set_options(c->ctx, ~old & want);
    MUTEX_UNLOCK(&c->mutex);
    return 0;
}

static Value ctx_get_verify_flags(TState *ts, Value self) {
    return int_from_u64(ts, X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(AS_CTX(self)->ctx)));
}

static int ctx_set_verify_flags(TState *ts, Value self, Value v) {
    int64_t n;
    if (!int_setting(ts, v, &n)) return -1;
    ObjSSLContext *c = AS_CTX(self);
    thread_lock_mutex(ts, &c->mutex);
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(c->ctx);
    unsigned long old = X509_VERIFY_PARAM_get_flags(param), want = (unsigned long)n;
    X509_VERIFY_PARAM_clear_flags(param, old & ~want);
    X509_VERIFY_PARAM_set_flags(param, ~old & want);
    MUTEX_UNLOCK(&c->mutex);
    return 0;
}

static Value version_value(int v, bool max) {
    if (v == 0) return INT_VAL(max ? VERSION_MAX_SUPPORTED : VERSION_MIN_SUPPORTED);
    return INT_VAL(v);
}

static Value ctx_get_minimum_version(TState *ts, Value self) {
    (void)ts;
    return version_value((int)SSL_CTX_get_min_proto_version(AS_CTX(self)->ctx), false);
}

static Value ctx_get_maximum_version(TState *ts, Value self) {
    (void)ts;
    return version_value((int)SSL_CTX_get_max_proto_version(AS_CTX(self)->ctx), true);
}

static int set_version(TState *ts, Value self, Value v, bool max) {
    int64_t n;
    if (!int_setting(ts, v, &n)) return -1;
    ObjSSLContext *c = AS_CTX(self);
    if (c->protocol != PROTO_TLS && c->protocol != PROTO_TLS_CLIENT && c->protocol != PROTO_TLS_SERVER) {
        err_set_str(ts, ts->interp->exc.ValueError,
                    "The context's protocol doesn't support modification of highest and lowest version.");
        return -1;
    }
    int version;
    if (n == VERSION_MIN_SUPPORTED) version = max ? SSL3_VERSION : 0;
    else if (n == VERSION_MAX_SUPPORTED) version = max ? 0 : TLS1_3_VERSION;
    else if (n == SSL3_VERSION || n == TLS1_VERSION || n == TLS1_1_VERSION || n == TLS1_2_VERSION ||
             n == TLS1_3_VERSION)
        version = (int)n;
    else {
        err_format(ts, ts->interp->exc.ValueError, "Unsupported TLS/SSL version 0x%x", (unsigned)n);
        return -1;
    }
    thread_lock_mutex(ts, &c->mutex);
    int ok = max ? SSL_CTX_set_max_proto_version(c->ctx, version) : SSL_CTX_set_min_proto_version(c->ctx, version);
    MUTEX_UNLOCK(&c->mutex);
    if (!ok) {
        err_format(ts, ts->interp->exc.ValueError, "Unsupported protocol version 0x%x", (unsigned)n);
        return -1;
    }
    return 0;
}

static int ctx_set_minimum_version(TState *ts, Value self, Value v) { return set_version(ts, self, v, false); }
static int ctx_set_maximum_version(TState *ts, Value self, Value v) { return set_version(ts, self, v, true); }

static Value ctx_get_protocol(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(AS_CTX(self)->protocol);
}

static Value ctx_get_security_level(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(SSL_CTX_get_security_level(AS_CTX(self)->ctx));
}

static Value ctx_get_hostflags(TState *ts, Value self) {
    (void)ts;
    return INT_VAL(AS_CTX(self)->hostflags);
}

static int ctx_set_hostflags(TState *ts, Value self, Value v) {
    int64_t n;
    if (!int_setting(ts, v, &n)) return -1;
    ObjSSLContext *c = AS_CTX(self);
    thread_lock_mutex(ts, &c->mutex);
    c->hostflags = (unsigned int)n;
    X509_VERIFY_PARAM_set_hostflags(SSL_CTX_get0_param(c->ctx), c->hostflags);
    MUTEX_UNLOCK(&c->mutex);
    return 0;
}

/* ---- the connection ------------------------------------------------------------------ */

static void sslsock_trace(GcMarker *m, Obj *self) {
    ObjSSLSocket *s = (ObjSSLSocket *)self;
    gc_mark_value(m, s->sock);
    gc_mark_value(m, s->inbio);
    gc_mark_value(m, s->outbio);
    gc_mark_value(m, s->owner);
    gc_mark_value(m, s->context);
    gc_mark_value(m, s->hostname);
}

static void sslsock_finalize(Obj *self) {
    ObjSSLSocket *s = (ObjSSLSocket *)self;
    PT_CHECK(pthread_mutex_destroy(&s->mutex));
    SSL_free(s->ssl);
}

static void sslsock_after_fork(Obj *self) { PT_CHECK(pthread_mutex_init(&((ObjSSLSocket *)self)->mutex, NULL)); }

/* Is text an IPv4 or IPv6 address (no SNI is sent for one)? */
static bool is_ip_address(const char *text) {
    unsigned char buf[16];
    return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
}

/* ---- SSLSession -------------------------------------------------------------------------- */

/* A client's TLS session, to resume with another connection of the same
 * context (wrap_socket(session=...)). */
typedef struct ObjSSLSession {
    Obj obj;
    SSL_SESSION *session;
    Value context;  /* the _SSLContext it belongs to */
} ObjSSLSession;

#define AS_SESSION(v) ((ObjSSLSession *)AS_OBJ(v))

static void session_trace(GcMarker *m, Obj *self) { gc_mark_value(m, ((ObjSSLSession *)self)->context); }

static void session_finalize(Obj *self) { SSL_SESSION_free(((ObjSSLSession *)self)->session); }

static bool is_session(TState *ts, Value v) {
    ObjType *t = module_type(ts, "_ssl", "SSLSession");
    return t && IS_OBJ(v) && type_is_subtype(OBJ_TYPE(v), t);
}

/* Equal when they are the same session: the same id. */
static Value session_richcmp(TState *ts, Value a, Value b, CmpOp op) {
    if ((op != CMP_EQ && op != CMP_NE) || !is_session(ts, a) || !is_session(ts, b)) return NOT_IMPLEMENTED_VAL;
    unsigned int na, nb;
    const unsigned char *ida = SSL_SESSION_get_id(AS_SESSION(a)->session, &na);
    const unsigned char *idb = SSL_SESSION_get_id(AS_SESSION(b)->session, &nb);
    bool same = AS_SESSION(a)->session == AS_SESSION(b)->session || (na == nb && memcmp(ida, idb, na) == 0);
    return BOOL_VAL(same == (op == CMP_EQ));
}

static Value session_get_id(TState *ts, Value self) {
    unsigned int n;
    const unsigned char *id = SSL_SESSION_get_id(AS_SESSION(self)->session, &n);
    ObjBytes *b = bytes_new(ts, (const char *)id, n);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value session_get_time(TState *ts, Value self) {
    return int_from_i64(ts, (int64_t)SSL_SESSION_get_time(AS_SESSION(self)->session));
}

static Value session_get_timeout(TState *ts, Value self) {
    return int_from_i64(ts, (int64_t)SSL_SESSION_get_timeout(AS_SESSION(self)->session));
}

static Value session_get_ticket_lifetime_hint(TState *ts, Value self) {
    return int_from_u64(ts, SSL_SESSION_get_ticket_lifetime_hint(AS_SESSION(self)->session));
}

static Value session_get_has_ticket(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(SSL_SESSION_has_ticket(AS_SESSION(self)->session));
}

static const GetSetDef session_getsets[] = {
    {"id", session_get_id, NULL},
    {"time", session_get_time, NULL},
    {"timeout", session_get_timeout, NULL},
    {"ticket_lifetime_hint", session_get_ticket_lifetime_hint, NULL},
    {"has_ticket", session_get_has_ticket, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec session_spec = {
    .name = "SSLSession",
    .kind = OBJ_OPAQUE,
    .richcmp = session_richcmp,
    .trace = session_trace,
    .finalize = session_finalize,
    .getsets = session_getsets,
};

/* Resumes `session` on s (a client's connection, before its handshake),
 * with CPython's errors. */
static bool set_session(TState *ts, ObjSSLSocket *s, Value session) {
    if (!is_session(ts, session)) {
        if (!err_occurred(ts)) err_set_str(ts, ts->interp->exc.TypeError, "Value is not a SSLSession.");
        return false;
    }
    if (AS_CTX(AS_SESSION(session)->context)->ctx != AS_CTX(s->context)->ctx) {
        err_set_str(ts, ts->interp->exc.ValueError, "Session refers to a different SSLContext.");
        return false;
    }
    if (s->server_side) {
        err_set_str(ts, ts->interp->exc.ValueError, "Cannot set session for server-side SSLSocket.");
        return false;
    }
    thread_lock_mutex(ts, &s->mutex);
    bool done = SSL_is_init_finished(s->ssl);
    int ok = done ? 1 : SSL_set_session(s->ssl, AS_SESSION(session)->session);
    MUTEX_UNLOCK(&s->mutex);
    if (done) {
        err_set_str(ts, ts->interp->exc.ValueError, "Cannot set session after handshake.");
        return false;
    }
    if (!ok) {
        raise_lib_error(ts, __LINE__);
        return false;
    }
    return true;
}

static Value sslsock_get_session(TState *ts, Value self) {
    ObjSSLSocket *s = AS_SSLSOCK(self);
    ObjType *type = module_type(ts, "_ssl", "SSLSession");
    if (!type) return ERROR_VAL;
    /* A copy, as CPython: the connection's own session is marked not
     * resumable when the connection is freed without a close_notify. */
    thread_lock_mutex(ts, &s->mutex);
    SSL_SESSION *own = SSL_get0_session(s->ssl);
    SSL_SESSION *session = own ? SSL_SESSION_dup(own) : NULL;
    MUTEX_UNLOCK(&s->mutex);
    if (!own) return NONE_VAL;
    if (!session) return raise_lib_error(ts, __LINE__);
    ObjSSLSession *o = (ObjSSLSession *)gc_alloc(ts, sizeof(ObjSSLSession), OBJ_OPAQUE, type);
    if (!o) {
        SSL_SESSION_free(session);
        return ERROR_VAL;
    }
    o->session = session;
    o->context = s->context;
    return OBJ_VAL(o);
}

static int sslsock_set_session(TState *ts, Value self, Value v) {
    if (IS_EMPTY(v)) {
        err_set_str(ts, ts->interp->exc.AttributeError, "cannot delete attribute");
        return -1;
    }
    return set_session(ts, AS_SSLSOCK(self), v) ? 0 : -1;
}

/* A memory BIO (MemoryBIO): bytes written by one side, read by the other. */
typedef struct ObjMemoryBIO {
    Obj obj;
    pthread_mutex_t mutex;  /* its reads and writes, and the SSL's on it */
    BIO *bio;
    bool eof_written;
} ObjMemoryBIO;

#define AS_MEMBIO(v) ((ObjMemoryBIO *)AS_OBJ(v))

/* A new _SSLSocket of context c over sock's descriptor or over two
 * MemoryBIOs (sock None), after CPython's checks of its arguments. */
static Value new_sslsock(TState *ts, Value ctx, Value server_v, Value host, Value owner, Value session, Value sock,
                         Value in, Value out) {
    ObjSSLContext *c = AS_CTX(ctx);
    int fd = -1;
    double timeout;
    if (!IS_NONE(sock) && !socket_peek(ts, sock, &fd, &timeout)) return ERROR_VAL;
    int server = ops_truth(ts, server_v);
    if (server < 0) return ERROR_VAL;
    if (IS_EMPTY(host)) host = NONE_VAL;
    if (!IS_NONE(host) && !IS_STR(host))
        return err_format(ts, ts->interp->exc.TypeError, "server_hostname must be str or None, not %s",
                          ops_type_name(ts, host));
    if (server && c->protocol == PROTO_TLS_CLIENT)
        return err_set_str(ts, ts->interp->exc.ValueError, "Cannot create a server socket with a PROTOCOL_TLS_CLIENT "
                                                           "context");
    if (!server && c->protocol == PROTO_TLS_SERVER)
        return err_set_str(ts, ts->interp->exc.ValueError, "Cannot create a client socket with a PROTOCOL_TLS_SERVER "
                                                           "context");
    if (IS_STR(host) && (AS_STR(host)->len == 0 || AS_STR(host)->data[0] == '.'))
        return err_set_str(ts, ts->interp->exc.ValueError, "server_hostname cannot be an empty string or start with a "
                                                           "leading dot.");
    ObjType *type = module_type(ts, "_ssl", "_SSLSocket");
    if (!type) return ERROR_VAL;
    thread_lock_mutex(ts, &c->mutex);
    SSL *ssl = SSL_new(c->ctx);
    bool check = atomic_load(&c->check_hostname);
    MUTEX_UNLOCK(&c->mutex);
    if (!ssl) return raise_lib_error(ts, __LINE__);
    if (IS_NONE(sock)) {
        /* The SSL takes a reference of each BIO; the MemoryBIOs keep theirs. */
        BIO_up_ref(AS_MEMBIO(in)->bio);
        BIO_up_ref(AS_MEMBIO(out)->bio);
        SSL_set_bio(ssl, AS_MEMBIO(in)->bio, AS_MEMBIO(out)->bio);
    } else {
        SSL_set_fd(ssl, fd);
    }
    SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
    if (IS_STR(host)) {
        const char *name = AS_STR(host)->data;
        bool ip = is_ip_address(name);
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        bool ok = (ip || SSL_set_tlsext_host_name(ssl, name)) &&
                  (!check || (ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name)
                                 : X509_VERIFY_PARAM_set1_host(param, name, 0)));
        if (!ok) {
            SSL_free(ssl);
            return raise_lib_error(ts, __LINE__);
        }
    }
    if (server) SSL_set_accept_state(ssl);
    else SSL_set_connect_state(ssl);
    ObjSSLSocket *s = (ObjSSLSocket *)gc_alloc(ts, sizeof(ObjSSLSocket), OBJ_OPAQUE, type);
    if (!s) {
        SSL_free(ssl);
        return ERROR_VAL;
    }
    PT_CHECK(pthread_mutex_init(&s->mutex, NULL));
    s->ssl = ssl;
    s->sock = sock;
    s->inbio = in;
    s->outbio = out;
    s->owner = IS_EMPTY(owner) ? NONE_VAL : owner;
    s->context = ctx;
    s->hostname = host;
    s->server_side = server;
    if (IS_EMPTY(session) || IS_NONE(session)) return OBJ_VAL(s);
    vm_push(ts, OBJ_VAL(s));
    bool ok = set_session(ts, s, session);
    vm_pop(ts);
    return ok ? OBJ_VAL(s) : ERROR_VAL;
}

/* _wrap_socket(sock, server_side, server_hostname=None, *, owner=None,
 * session=None) -> _SSLSocket. */
static Value ctx_wrap_socket(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "sock", "server_side", "server_hostname", "owner", "session"};
    Value v[6];
    if (!args_bind(ts, "_wrap_socket", args, nargs, kwnames, names, 6, 3, 4, v)) return ERROR_VAL;
    return new_sslsock(ts, v[0], v[2], v[3], v[4], v[5], v[1], NONE_VAL, NONE_VAL);
}

/* _wrap_bio(incoming, outgoing, server_side, server_hostname=None, *,
 * owner=None, session=None) -> _SSLSocket over two MemoryBIOs. */
static Value ctx_wrap_bio(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "incoming", "outgoing", "server_side", "server_hostname", "owner",
                                        "session"};
    Value v[7];
    if (!args_bind(ts, "_wrap_bio", args, nargs, kwnames, names, 7, 4, 5, v)) return ERROR_VAL;
    ObjType *bio = module_type(ts, "_ssl", "MemoryBIO");
    if (!bio) return ERROR_VAL;
    for (int i = 1; i <= 2; i++)
        if (!IS_OBJ(v[i]) || !type_is_subtype(OBJ_TYPE(v[i]), bio))
            return err_format(ts, ts->interp->exc.TypeError, "_wrap_bio() argument '%s' must be _ssl.MemoryBIO, not %s",
                              names[i], ops_type_name(ts, v[i]));
    return new_sslsock(ts, v[0], v[3], v[4], v[5], v[6], NONE_VAL, v[1], v[2]);
}

typedef enum SslOpKind { SSLOP_HANDSHAKE, SSLOP_READ, SSLOP_WRITE, SSLOP_SHUTDOWN } SslOpKind;

/* One OpenSSL operation and what became of it. */
typedef struct SslOp {
    SslOpKind kind;
    char *buf;
    size_t len, done;
    int ret;             /* the call's result */
    int err;             /* SSL_get_error */
    int sys_errno;
    unsigned long code;  /* the OpenSSL error, for SSL_ERROR_SSL/SYSCALL */
    long verify;         /* SSL_get_verify_result */
} SslOp;

/* Makes one attempt; the connection's mutex held, the thread detached. */
static void ssl_attempt(SSL *ssl, SslOp *op) {
    ERR_clear_error();
    errno = 0;
    switch (op->kind) {
    case SSLOP_HANDSHAKE: op->ret = SSL_do_handshake(ssl); break;
    case SSLOP_READ: op->ret = SSL_read_ex(ssl, op->buf, op->len, &op->done); break;
    case SSLOP_WRITE: op->ret = SSL_write_ex(ssl, op->buf, op->len, &op->done); break;
    case SSLOP_SHUTDOWN:
        /* 0: our close_notify went out; once more waits for the peer's. */
        op->ret = SSL_shutdown(ssl);
        if (op->ret == 0) op->ret = SSL_shutdown(ssl);
        break;
    }
    op->sys_errno = errno;
    op->err = op->ret > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, op->ret);
    op->code = ERR_peek_last_error();
    op->verify = SSL_get_verify_result(ssl);
}

static const char *const timeout_texts[] = {
    [SSLOP_HANDSHAKE] = "The handshake operation timed out",
    [SSLOP_READ] = "The read operation timed out",
    [SSLOP_WRITE] = "The write operation timed out",
    [SSLOP_SHUTDOWN] = "The read operation timed out",
};

/* CPython's PySSL_SetError for a failed operation. */
static Value raise_op_error(TState *ts, ObjSSLSocket *s, const SslOp *op) {
    switch (op->err) {
    case SSL_ERROR_ZERO_RETURN:
        return raise_simple(ts, "SSLZeroReturnError", SSL_ERROR_ZERO_RETURN, "TLS/SSL connection has been closed "
                            "(EOF)", __LINE__);
    case SSL_ERROR_WANT_READ:
        return raise_simple(ts, "SSLWantReadError", SSL_ERROR_WANT_READ, "The operation did not complete (read)",
                            __LINE__);
    case SSL_ERROR_WANT_WRITE:
        return raise_simple(ts, "SSLWantWriteError", SSL_ERROR_WANT_WRITE, "The operation did not complete (write)",
                            __LINE__);
    case SSL_ERROR_WANT_X509_LOOKUP:
        return raise_simple(ts, "SSLError", SSL_ERROR_WANT_X509_LOOKUP, "The operation did not complete (X509 "
                            "lookup)", __LINE__);
    case SSL_ERROR_WANT_CONNECT:
        return raise_simple(ts, "SSLError", SSL_ERROR_WANT_CONNECT, "The operation did not complete (connect)",
                            __LINE__);
    case SSL_ERROR_SYSCALL:
        if (op->code == 0) {
            /* As CPython: a failed read or write (result 0) is an EOF; a
             * handshake or shutdown (-1) reports the system's error. */
            if (op->ret == -1 && op->sys_errno && op->sys_errno != EAGAIN) {
                ERR_clear_error();
                return file_raise_oserror(ts, op->sys_errno, NONE_VAL);
            }
            if (op->ret != 0 && op->ret != -1)
                return raise_simple(ts, "SSLSyscallError", SSL_ERROR_SYSCALL, "Some I/O error occurred", __LINE__);
            return raise_simple(ts, "SSLEOFError", PY_SSL_ERROR_EOF, "EOF occurred in violation of protocol",
                                __LINE__);
        }
        return raise_from_code(ts, s, "SSLSyscallError", SSL_ERROR_SYSCALL, op->code, op->verify, NULL, __LINE__);
    default:
        /* OpenSSL 3 reports a peer gone without close_notify this way. */
        if (ERR_GET_LIB(op->code) == ERR_LIB_SSL && ERR_GET_REASON(op->code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return raise_from_code(ts, s, "SSLEOFError", PY_SSL_ERROR_EOF, op->code, op->verify,
                                   "EOF occurred in violation of protocol", __LINE__);
        if (!op->code)
            return raise_simple(ts, "SSLError", SSL_ERROR_SSL, "A failure in the SSL library occurred", __LINE__);
        return raise_from_code(ts, s, "SSLError", SSL_ERROR_SSL, op->code, op->verify, NULL, __LINE__);
    }
}

/* Runs op until it completes: waiting for the socket between attempts
 * within its timeout, or raising SSLWantRead/WriteError at once for a
 * non-blocking socket. False after raising. */
static bool ssl_run(TState *ts, ObjSSLSocket *s, SslOp *op) {
    int fd;
    double timeout;
    if (IS_NONE(s->sock)) {
        /* Over MemoryBIOs: one attempt; WANT_READ means "feed incoming". */
        ObjMemoryBIO *in = AS_MEMBIO(s->inbio), *out = AS_MEMBIO(s->outbio);
        thread_detach_to_compute(ts);
        MUTEX_LOCK(&s->mutex);
        MUTEX_LOCK(&in->mutex);
        if (out != in) MUTEX_LOCK(&out->mutex);
        ssl_attempt(s->ssl, op);
        if (out != in) MUTEX_UNLOCK(&out->mutex);
        MUTEX_UNLOCK(&in->mutex);
        MUTEX_UNLOCK(&s->mutex);
        thread_attach(ts);
        if (op->err == SSL_ERROR_NONE) return true;
        raise_op_error(ts, s, op);
        return false;
    }
    if (!socket_peek(ts, s->sock, &fd, &timeout)) return false;
    if (fd < 0) {
        err_set_str(ts, ts->interp->exc.ValueError, "Underlying socket has been closed.");
        return false;
    }
    struct timespec deadline = sync_deadline(timeout > 0 ? timeout : 0);
    for (;;) {
        thread_detach_to_compute(ts);
        MUTEX_LOCK(&s->mutex);
        ssl_attempt(s->ssl, op);
        MUTEX_UNLOCK(&s->mutex);
        thread_attach(ts);
        if (op->err == SSL_ERROR_NONE) return true;
        short events = op->err == SSL_ERROR_WANT_READ ? POLLIN : op->err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (op->err == SSL_ERROR_SYSCALL && op->code == 0 && op->sys_errno == EINTR) {
            if (!vm_safepoint(ts)) return false;
            continue;
        }
        if (!events || timeout == 0) {
            raise_op_error(ts, s, op);
            return false;
        }
        double left = timeout < 0 ? -1 : sync_seconds_until(&deadline);
        int ready = 0;
        if (timeout < 0 || left > 0) {
            struct pollfd pfd = {.fd = fd, .events = events};
            ready = thread_poll(ts, &pfd, 1, left);
            if (ready < 0) return false;
        }
        if (ready == 0) {
            /* CPython names the handshake's timeout with its source line. */
            const char *text = timeout_texts[op->kind == SSLOP_SHUTDOWN && events == POLLOUT ? SSLOP_WRITE : op->kind];
            if (op->kind == SSLOP_HANDSHAKE)
                err_format(ts, ts->interp->exc.TimeoutError, "_ssl.c:%d: %s", __LINE__, text);
            else err_set_str(ts, ts->interp->exc.TimeoutError, text);
            return false;
        }
        if (!socket_peek(ts, s->sock, &fd, &timeout)) return false;
        if (fd < 0) {
            err_set_str(ts, ts->interp->exc.ValueError, "Underlying socket has been closed.");
            return false;
        }
    }
}

/* ---- MemoryBIO ----------------------------------------------------------------------- */

static void membio_finalize(Obj *self) {
    ObjMemoryBIO *b = (ObjMemoryBIO *)self;
    PT_CHECK(pthread_mutex_destroy(&b->mutex));
    BIO_free(b->bio);
}

static void membio_after_fork(Obj *self) { PT_CHECK(pthread_mutex_init(&((ObjMemoryBIO *)self)->mutex, NULL)); }

static Value membio_type_new(TState *ts, ObjType *type, Value *args, int nargs, ObjTuple *kwnames) {
    (void)args;
    if (!args_check(ts, "MemoryBIO", nargs, kwnames, 0, 0)) return ERROR_VAL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return err_no_memory(ts);
    /* Reading an empty BIO means "not yet" until write_eof(). */
    BIO_set_mem_eof_return(bio, -1);
    ObjMemoryBIO *b = (ObjMemoryBIO *)gc_alloc(ts, sizeof(ObjMemoryBIO), OBJ_OPAQUE, type);
    if (!b) {
        BIO_free(bio);
        return ERROR_VAL;
    }
    PT_CHECK(pthread_mutex_init(&b->mutex, NULL));
    b->bio = bio;
    b->eof_written = false;
    return OBJ_VAL(b);
}

#define MEMBIO AS_MEMBIO(args[0])

/* read(size=-1): up to size bytes of what is buffered. */
static Value membio_read(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("read", 0, 1);
    int64_t size = -1;
    if (nargs == 2 && !args_int(ts, args[1], &size)) return ERROR_VAL;
    ObjMemoryBIO *b = MEMBIO;
    thread_lock_mutex(ts, &b->mutex);
    size_t avail = BIO_ctrl_pending(b->bio);
    size_t n = size < 0 || (size_t)size > avail ? avail : (size_t)size;
    ObjBytes *out = bytes_alloc(ts, n);
    if (out && n) BIO_read(b->bio, out->data, (int)n);
    MUTEX_UNLOCK(&b->mutex);
    return out ? OBJ_VAL(out) : ERROR_VAL;
}

static Value membio_write(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("write", 1, 1);
    ObjMemoryBIO *b = MEMBIO;
    Buffer view;
    if (!buffer_get(ts, args[1], &view, BUF_READ)) return ERROR_VAL;
    if (view.len > INT32_MAX) {
        buffer_release(ts, &view);
        return err_format(ts, ts->interp->exc.OverflowError, "string longer than %d bytes", INT32_MAX);
    }
    thread_lock_mutex(ts, &b->mutex);
    bool eof = b->eof_written;
    int n = eof ? 0 : BIO_write(b->bio, view.buf, (int)view.len);
    MUTEX_UNLOCK(&b->mutex);
    size_t len = view.len;
    buffer_release(ts, &view);
    if (eof) {
        ObjStr *msg = str_from_cstr(ts, "cannot write() after write_eof()");
        if (!msg) return ERROR_VAL;
        Value a = OBJ_VAL(msg);
        return raise_with(ts, module_type(ts, "_ssl", "SSLError"), &a, 1, NULL, NULL, 0);
    }
    if (n < 0 && len > 0) return raise_lib_error(ts, __LINE__);
    return INT_VAL(n < 0 ? 0 : n);
}

static Value membio_write_eof(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("write_eof", 0, 0);
    ObjMemoryBIO *b = MEMBIO;
    thread_lock_mutex(ts, &b->mutex);
    b->eof_written = true;
    /* Reading an empty BIO now means end of data. */
    BIO_set_mem_eof_return(b->bio, 0);
    MUTEX_UNLOCK(&b->mutex);
    return NONE_VAL;
}

static Value membio_get_pending(TState *ts, Value self) {
    ObjMemoryBIO *b = AS_MEMBIO(self);
    thread_lock_mutex(ts, &b->mutex);
    size_t n = BIO_ctrl_pending(b->bio);
    MUTEX_UNLOCK(&b->mutex);
    return INT_VAL((int64_t)n);
}

static Value membio_get_eof(TState *ts, Value self) {
    ObjMemoryBIO *b = AS_MEMBIO(self);
    thread_lock_mutex(ts, &b->mutex);
    bool eof = b->eof_written && BIO_ctrl_pending(b->bio) == 0;
    MUTEX_UNLOCK(&b->mutex);
    return BOOL_VAL(eof);
}

static const NativeDef membio_methods[] = {
    {"read", membio_read},
    {"write", membio_write},
    {"write_eof", membio_write_eof},
    {NULL, NULL},
};

static const GetSetDef membio_getsets[] = {
    {"pending", membio_get_pending, NULL},
    {"eof", membio_get_eof, NULL},
    {NULL, NULL, NULL},
};

static const TypeSpec membio_spec = {
    .name = "MemoryBIO",
    .kind = OBJ_OPAQUE,
    .new_ = membio_type_new,
    .finalize = membio_finalize,
    .after_fork = membio_after_fork,
    .methods = membio_methods,
    .getsets = membio_getsets,
};

#define SSLSOCK AS_SSLSOCK(args[0])

static bool handshake_done(TState *ts, ObjSSLSocket *s) {
    thread_lock_mutex(ts, &s->mutex);
    bool done = SSL_is_init_finished(s->ssl);
    MUTEX_UNLOCK(&s->mutex);
    return done;
}

static Value sslsock_do_handshake(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("do_handshake", 0, 0);
    SslOp op = {.kind = SSLOP_HANDSHAKE};
    return ssl_run(ts, SSLSOCK, &op) ? NONE_VAL : ERROR_VAL;
}

/* read(len, buffer=None): bytes, or the count read into buffer. A close
 * by the peer (close_notify) reads as end of data. */
static Value sslsock_read(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("read", 1, 2);
    int64_t len;
    if (!args_int(ts, args[1], &len)) return ERROR_VAL;
    bool into = nargs == 3 && !IS_NONE(args[2]);
    Buffer view;
    SslOp op = {.kind = SSLOP_READ};
    if (into) {
        if (!buffer_get(ts, args[2], &view, BUF_EXPORT)) return ERROR_VAL;
        if (view.readonly) {
            buffer_release(ts, &view);
            return err_format(ts, ts->interp->exc.TypeError, "read() argument 2 must be read-write bytes-like "
                              "object, not %s", ops_type_name(ts, args[2]));
        }
        if (len <= 0 || (size_t)len > view.len) len = (int64_t)view.len;
        op.buf = view.buf;
    } else {
        if (len < 0) return err_set_str(ts, ts->interp->exc.ValueError, "size should not be negative");
        if (!(op.buf = malloc(len ? (size_t)len : 1))) return err_no_memory(ts);
    }
    op.len = (size_t)len;
    bool ok = len == 0 || ssl_run(ts, SSLSOCK, &op);
    if (!ok && op.err == SSL_ERROR_ZERO_RETURN) {
        thread_lock_mutex(ts, &SSLSOCK->mutex);
        bool closed = SSL_get_shutdown(SSLSOCK->ssl) & SSL_RECEIVED_SHUTDOWN;
        MUTEX_UNLOCK(&SSLSOCK->mutex);
        if (closed) {
            err_fetch(ts);
            ok = true;
            op.done = 0;
        }
    }
    Value out;
    if (into) {
        buffer_release(ts, &view);
        out = ok ? INT_VAL((int64_t)op.done) : ERROR_VAL;
    } else {
        ObjBytes *b = ok ? bytes_new(ts, op.buf, op.done) : NULL;
        free(op.buf);
        out = b ? OBJ_VAL(b) : ERROR_VAL;
    }
    return out;
}

static Value sslsock_write(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("write", 1, 1);
    Buffer view;
    if (!buffer_get(ts, args[1], &view, BUF_EXPORT)) return ERROR_VAL;
    SslOp op = {.kind = SSLOP_WRITE, .buf = view.buf, .len = view.len};
    bool ok = view.len == 0 || ssl_run(ts, SSLSOCK, &op);
    buffer_release(ts, &view);
    return ok ? INT_VAL((int64_t)op.done) : ERROR_VAL;
}

/* shutdown(): the TLS close (close_notify both ways); returns the socket. */
static Value sslsock_shutdown(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("shutdown", 0, 0);
    SslOp op = {.kind = SSLOP_SHUTDOWN};
    if (!ssl_run(ts, SSLSOCK, &op)) return ERROR_VAL;
    return SSLSOCK->sock;  /* None over MemoryBIOs */
}

static Value sslsock_pending(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("pending", 0, 0);
    thread_lock_mutex(ts, &SSLSOCK->mutex);
    int n = SSL_pending(SSLSOCK->ssl);
    MUTEX_UNLOCK(&SSLSOCK->mutex);
    return INT_VAL(n);
}

/* getpeercert(binary_form=False): {} when the certificate was not
 * verified (CERT_NONE), as CPython. */
static Value sslsock_getpeercert(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"$self", "binary_form"};
    Value v[2];
    if (!args_bind(ts, "getpeercert", args, nargs, kwnames, names, 2, 1, 2, v)) return ERROR_VAL;
    int binary = IS_EMPTY(v[1]) ? 0 : ops_truth(ts, v[1]);
    if (binary < 0) return ERROR_VAL;
    ObjSSLSocket *s = AS_SSLSOCK(v[0]);
    thread_lock_mutex(ts, &s->mutex);
    bool done = SSL_is_init_finished(s->ssl);
    X509 *cert = done ? SSL_get1_peer_certificate(s->ssl) : NULL;
    int mode = SSL_get_verify_mode(s->ssl);
    MUTEX_UNLOCK(&s->mutex);
    if (!done) return err_set_str(ts, ts->interp->exc.ValueError, "handshake not done yet");
    if (!cert) return NONE_VAL;
    Value out;
    if (binary) out = cert_der(ts, cert);
    else if (!(mode & SSL_VERIFY_PEER)) {
        ObjDict *d = dict_new(ts);
        out = d ? OBJ_VAL(d) : ERROR_VAL;
    } else out = cert_dict(ts, cert);
    X509_free(cert);
    return out;
}

/* cipher() -> (name, protocol, secret bits), None before the handshake. */
static Value sslsock_cipher(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("cipher", 0, 0);
    thread_lock_mutex(ts, &SSLSOCK->mutex);
    const SSL_CIPHER *c = SSL_get_current_cipher(SSLSOCK->ssl);
    MUTEX_UNLOCK(&SSLSOCK->mutex);
    if (!c) return NONE_VAL;
    ObjStr *name = str_from_cstr(ts, SSL_CIPHER_get_name(c)), *proto = str_from_cstr(ts, SSL_CIPHER_get_version(c));
    if (!name || !proto) return ERROR_VAL;
    Value items[3] = {OBJ_VAL(name), OBJ_VAL(proto), INT_VAL(SSL_CIPHER_get_bits(c, NULL))};
    ObjTuple *t = tuple_from(ts, items, 3);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value sslsock_version(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("version", 0, 0);
    thread_lock_mutex(ts, &SSLSOCK->mutex);
    bool done = SSL_is_init_finished(SSLSOCK->ssl);
    const char *v = SSL_get_version(SSLSOCK->ssl);
    MUTEX_UNLOCK(&SSLSOCK->mutex);
    if (!done) return NONE_VAL;
    ObjStr *s = str_from_cstr(ts, v);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value sslsock_selected_alpn_protocol(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("selected_alpn_protocol", 0, 0);
    const unsigned char *p = NULL;
    unsigned int n = 0;
    thread_lock_mutex(ts, &SSLSOCK->mutex);
    SSL_get0_alpn_selected(SSLSOCK->ssl, &p, &n);
    ObjStr *s = p && n ? str_new(ts, (const char *)p, n) : NULL;
    MUTEX_UNLOCK(&SSLSOCK->mutex);
    if (!p || !n) return NONE_VAL;
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value sslsock_compression(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("compression", 0, 0);
    return NONE_VAL;
}

/* shared_ciphers(): the client's ciphers this side also offers (server
 * side), as (name, protocol, bits) tuples; None before the handshake. */
static Value sslsock_shared_ciphers(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("shared_ciphers", 0, 0);
    ObjSSLSocket *s = SSLSOCK;
    if (!handshake_done(ts, s)) return NONE_VAL;
    ObjList *out = list_new(ts, 0);
    if (!out) return ERROR_VAL;
    /* Allocation does not collect, so the list is built under the mutex. */
    thread_lock_mutex(ts, &s->mutex);
    STACK_OF(SSL_CIPHER) *client = SSL_get_client_ciphers(s->ssl);
    if (!client) {
        MUTEX_UNLOCK(&s->mutex);
        return NONE_VAL;
    }
    STACK_OF(SSL_CIPHER) *ours = SSL_get1_supported_ciphers(s->ssl);
    bool ok = out != NULL;
    for (int i = 0; ok && i < sk_SSL_CIPHER_num(client); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(client, i);
        if (!ours || sk_SSL_CIPHER_find(ours, c) < 0) continue;
        ObjStr *name = str_from_cstr(ts, SSL_CIPHER_get_name(c)), *proto = str_from_cstr(ts, SSL_CIPHER_get_version(c));
        if (!name || !proto) {
            ok = false;
            break;
        }
        Value items[3] = {OBJ_VAL(name), OBJ_VAL(proto), INT_VAL(SSL_CIPHER_get_bits(c, NULL))};
        ObjTuple *t = tuple_from(ts, items, 3);
        ok = t && list_append(ts, out, OBJ_VAL(t)) == 0;
    }
    sk_SSL_CIPHER_free(ours);
    MUTEX_UNLOCK(&s->mutex);
    return ok ? OBJ_VAL(out) : ERROR_VAL;
}

/* get_channel_binding('tls-unique'): the first Finished message. */
static Value sslsock_get_channel_binding(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    ARGS_CHECK_METHOD("get_channel_binding", 0, 1);
    ObjStr *kind = NULL;
    if (nargs == 2 && !args_str(ts, args[1], "get_channel_binding", &kind)) return ERROR_VAL;
    if (kind && strcmp(kind->data, "tls-unique") != 0)
        return err_format(ts, ts->interp->exc.ValueError, "'%s' channel binding type not implemented", kind->data);
    char buf[128];
    ObjSSLSocket *s = SSLSOCK;
    thread_lock_mutex(ts, &s->mutex);
    bool reused = SSL_session_reused(s->ssl);
    /* The first Finished message: the client's in a full handshake. */
    size_t n = (reused ^ !s->server_side) ? SSL_get_finished(s->ssl, buf, sizeof buf)
                                          : SSL_get_peer_finished(s->ssl, buf, sizeof buf);
    MUTEX_UNLOCK(&s->mutex);
    if (n == 0) return NONE_VAL;
    ObjBytes *b = bytes_new(ts, buf, n);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value sslsock_get_context(TState *ts, Value self) {
    (void)ts;
    return AS_SSLSOCK(self)->context;
}

static Value sslsock_get_server_side(TState *ts, Value self) {
    (void)ts;
    return BOOL_VAL(AS_SSLSOCK(self)->server_side);
}

static Value sslsock_get_server_hostname(TState *ts, Value self) {
    (void)ts;
    return AS_SSLSOCK(self)->hostname;
}

static Value sslsock_get_owner(TState *ts, Value self) {
    (void)ts;
    return AS_SSLSOCK(self)->owner;
}

static int sslsock_set_owner(TState *ts, Value self, Value v) {
    (void)ts;
    AS_SSLSOCK(self)->owner = IS_EMPTY(v) ? NONE_VAL : v;
    return 0;
}

static Value sslsock_get_session_reused(TState *ts, Value self) {
    thread_lock_mutex(ts, &AS_SSLSOCK(self)->mutex);
    bool reused = SSL_session_reused(AS_SSLSOCK(self)->ssl);
    MUTEX_UNLOCK(&AS_SSLSOCK(self)->mutex);
    return BOOL_VAL(reused);
}

/* ---- module functions ----------------------------------------------------------------- */

/* txt2obj(txt, name=False) / nid2obj(nid) -> (nid, shortname, longname, oid). */
static Value obj_tuple(TState *ts, ASN1_OBJECT *obj) {
    int nid = OBJ_obj2nid(obj);
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, obj, 1);
    const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL, *ln = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;
    ObjStr *s = sn ? str_from_cstr(ts, sn) : NULL, *l = ln ? str_from_cstr(ts, ln) : NULL, *o = str_from_cstr(ts, oid);
    if ((sn && !s) || (ln && !l) || !o) return ERROR_VAL;
    Value items[4] = {INT_VAL(nid), s ? OBJ_VAL(s) : NONE_VAL, l ? OBJ_VAL(l) : NONE_VAL, OBJ_VAL(o)};
    ObjTuple *t = tuple_from(ts, items, 4);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value f_txt2obj(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    static const char *const names[] = {"txt", "name"};
    Value v[2];
    ObjStr *txt;
    if (!args_bind(ts, "txt2obj", args, nargs, kwnames, names, 2, 1, 2, v) || !args_str(ts, v[0], "txt2obj", &txt))
        return ERROR_VAL;
    int by_name = IS_EMPTY(v[1]) ? 0 : ops_truth(ts, v[1]);
    if (by_name < 0) return ERROR_VAL;
    ASN1_OBJECT *obj = OBJ_txt2obj(txt->data, by_name ? 0 : 1);
    if (!obj) {
        ERR_clear_error();
        return err_format(ts, ts->interp->exc.ValueError, "unknown object '%s'", txt->data);
    }
    Value out = obj_tuple(ts, obj);
    ASN1_OBJECT_free(obj);
    return out;
}

static Value f_nid2obj(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int64_t nid;
    if (!args_check(ts, "nid2obj", nargs, kwnames, 1, 1) || !args_int(ts, args[0], &nid)) return ERROR_VAL;
    if (nid < NID_undef) return err_set_str(ts, ts->interp->exc.ValueError, "NID must be positive.");
    ASN1_OBJECT *obj = nid > INT32_MAX ? NULL : OBJ_nid2obj((int)nid);
    if (!obj) {
        ERR_clear_error();
        return err_format(ts, ts->interp->exc.ValueError, "unknown NID %lld", (long long)nid);
    }
    Value out = obj_tuple(ts, obj);
    ASN1_OBJECT_free(obj);
    return out;
}

static Value f_get_default_verify_paths(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "get_default_verify_paths", nargs, kwnames, 0, 0)) return ERROR_VAL;
    const char *texts[4] = {X509_get_default_cert_file_env(), X509_get_default_cert_file(),
                            X509_get_default_cert_dir_env(), X509_get_default_cert_dir()};
    Value items[4];
    for (int i = 0; i < 4; i++) {
        ObjStr *s = str_from_cstr(ts, texts[i]);
        if (!s) return ERROR_VAL;
        items[i] = OBJ_VAL(s);
    }
    ObjTuple *t = tuple_from(ts, items, 4);
    return t ? OBJ_VAL(t) : ERROR_VAL;
}

static Value f_rand_bytes(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    int64_t n;
    if (!args_check(ts, "RAND_bytes", nargs, kwnames, 1, 1) || !args_int(ts, args[0], &n)) return ERROR_VAL;
    if (n < 0) return err_set_str(ts, ts->interp->exc.ValueError, "num must be positive");
    unsigned char *buf = malloc(n ? (size_t)n : 1);
    if (!buf) return err_no_memory(ts);
    if (RAND_bytes(buf, (int)n) != 1) {
        free(buf);
        return raise_lib_error(ts, __LINE__);
    }
    ObjBytes *b = bytes_new(ts, (const char *)buf, (size_t)n);
    free(buf);
    return b ? OBJ_VAL(b) : ERROR_VAL;
}

static Value f_rand_status(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "RAND_status", nargs, kwnames, 0, 0)) return ERROR_VAL;
    return BOOL_VAL(RAND_status() == 1);
}

static Value f_rand_add(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    double entropy;
    if (!args_check(ts, "RAND_add", nargs, kwnames, 2, 2) || !args_float(ts, args[1], &entropy)) return ERROR_VAL;
    Buffer view;
    if (IS_STR(args[0])) {
        RAND_add(AS_STR(args[0])->data, (int)AS_STR(args[0])->len, entropy);
        return NONE_VAL;
    }
    if (!buffer_get(ts, args[0], &view, BUF_READ)) return ERROR_VAL;
    RAND_add(view.buf, (int)view.len, entropy);
    buffer_release(ts, &view);
    return NONE_VAL;
}

static const NativeDef ctx_methods[] = {
    {"set_ciphers", ctx_set_ciphers},
    {"load_cert_chain", ctx_load_cert_chain},
    {"load_verify_locations", ctx_load_verify_locations},
    {"set_default_verify_paths", ctx_set_default_verify_paths},
    {"_set_alpn_protocols", ctx_set_alpn_protocols},
    {"_wrap_socket", ctx_wrap_socket},
    {"_wrap_bio", ctx_wrap_bio},
    {"cert_store_stats", ctx_cert_store_stats},
    {"get_ca_certs", ctx_get_ca_certs},
    {"get_ciphers", ctx_get_ciphers},
    {"set_ecdh_curve", ctx_set_ecdh_curve},
    {"load_dh_params", ctx_load_dh_params},
    {"session_stats", ctx_session_stats},
    {NULL, NULL},
};

static const GetSetDef ctx_getsets[] = {
    {"verify_mode", ctx_get_verify_mode, ctx_set_verify_mode},
    {"check_hostname", ctx_get_check_hostname, ctx_set_check_hostname},
    {"options", ctx_get_options, ctx_set_options},
    {"verify_flags", ctx_get_verify_flags, ctx_set_verify_flags},
    {"minimum_version", ctx_get_minimum_version, ctx_set_minimum_version},
    {"maximum_version", ctx_get_maximum_version, ctx_set_maximum_version},
    {"protocol", ctx_get_protocol, NULL},
    {"security_level", ctx_get_security_level, NULL},
    {"num_tickets", ctx_get_num_tickets, ctx_set_num_tickets},
    {"_host_flags", ctx_get_hostflags, ctx_set_hostflags},
    /* For ssl.mini's properties of the same names, which convert to enums. */
    {"_protocol", ctx_get_protocol, NULL},
    {"_verify_mode", ctx_get_verify_mode, ctx_set_verify_mode},
    {"_options", ctx_get_options, ctx_set_options},
    {"_verify_flags", ctx_get_verify_flags, ctx_set_verify_flags},
    {"_minimum_version", ctx_get_minimum_version, ctx_set_minimum_version},
    {"_maximum_version", ctx_get_maximum_version, ctx_set_maximum_version},
    {NULL, NULL, NULL},
};

static const TypeSpec ctx_spec = {
    .name = "_SSLContext",
    .kind = OBJ_OPAQUE,
    .flags = TYPEF_BASETYPE,
    .new_ = ctx_type_new,
    .finalize = ctx_finalize,
    .after_fork = ctx_after_fork,
    .methods = ctx_methods,
    .getsets = ctx_getsets,
};

static const NativeDef sslsock_methods[] = {
    {"do_handshake", sslsock_do_handshake},
    {"read", sslsock_read},
    {"write", sslsock_write},
    {"shutdown", sslsock_shutdown},
    {"pending", sslsock_pending},
    {"getpeercert", sslsock_getpeercert},
    {"cipher", sslsock_cipher},
    {"shared_ciphers", sslsock_shared_ciphers},
    {"version", sslsock_version},
    {"selected_alpn_protocol", sslsock_selected_alpn_protocol},
    {"compression", sslsock_compression},
    {"get_channel_binding", sslsock_get_channel_binding},
    {NULL, NULL},
};

static const GetSetDef sslsock_getsets[] = {
    {"context", sslsock_get_context, NULL},
    {"server_side", sslsock_get_server_side, NULL},
    {"server_hostname", sslsock_get_server_hostname, NULL},
    {"owner", sslsock_get_owner, sslsock_set_owner},
    {"session_reused", sslsock_get_session_reused, NULL},
    {"session", sslsock_get_session, sslsock_set_session},
    {NULL, NULL, NULL},
};

static const TypeSpec sslsock_spec = {
    .name = "_SSLSocket",
    .kind = OBJ_OPAQUE,
    .trace = sslsock_trace,
    .finalize = sslsock_finalize,
    .after_fork = sslsock_after_fork,
    .methods = sslsock_methods,
    .getsets = sslsock_getsets,
};

static const NativeDef ssl_functions[] = {
    {"_test_decode_cert", f_test_decode_cert},
    {"txt2obj", f_txt2obj},
    {"nid2obj", f_nid2obj},
    {"get_default_verify_paths", f_get_default_verify_paths},
    {"RAND_bytes", f_rand_bytes},
    {"RAND_status", f_rand_status},
    {"RAND_add", f_rand_add},
    {NULL, NULL},
};

static const IntConstant ssl_constants[] = {
    {"PROTOCOL_TLS", PROTO_TLS}, {"PROTOCOL_SSLv23", PROTO_TLS}, {"PROTOCOL_TLS_CLIENT", PROTO_TLS_CLIENT},
    {"PROTOCOL_TLS_SERVER", PROTO_TLS_SERVER},
    {"CERT_NONE", CERT_NONE}, {"CERT_OPTIONAL", CERT_OPTIONAL}, {"CERT_REQUIRED", CERT_REQUIRED},
    {"SSL_ERROR_ZERO_RETURN", SSL_ERROR_ZERO_RETURN}, {"SSL_ERROR_WANT_READ", SSL_ERROR_WANT_READ},
    {"SSL_ERROR_WANT_WRITE", SSL_ERROR_WANT_WRITE}, {"SSL_ERROR_WANT_X509_LOOKUP", SSL_ERROR_WANT_X509_LOOKUP},
    {"SSL_ERROR_SYSCALL", SSL_ERROR_SYSCALL}, {"SSL_ERROR_SSL", SSL_ERROR_SSL},
    {"SSL_ERROR_WANT_CONNECT", SSL_ERROR_WANT_CONNECT}, {"SSL_ERROR_EOF", PY_SSL_ERROR_EOF},
    {"SSL_ERROR_INVALID_ERROR_CODE", 10},
    {"OP_ALL", SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS}, {"OP_NO_SSLv2", 0}, {"OP_NO_SSLv3", SSL_OP_NO_SSLv3},
    {"OP_NO_TLSv1", SSL_OP_NO_TLSv1}, {"OP_NO_TLSv1_1", SSL_OP_NO_TLSv1_1}, {"OP_NO_TLSv1_2", SSL_OP_NO_TLSv1_2},
    {"OP_NO_TLSv1_3", SSL_OP_NO_TLSv1_3}, {"OP_CIPHER_SERVER_PREFERENCE", SSL_OP_CIPHER_SERVER_PREFERENCE},
    {"OP_SINGLE_DH_USE", SSL_OP_SINGLE_DH_USE}, {"OP_SINGLE_ECDH_USE", SSL_OP_SINGLE_ECDH_USE},
    {"OP_NO_COMPRESSION", SSL_OP_NO_COMPRESSION}, {"OP_NO_TICKET", SSL_OP_NO_TICKET},
    {"OP_NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION}, {"OP_ENABLE_MIDDLEBOX_COMPAT", SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
    {"OP_IGNORE_UNEXPECTED_EOF", SSL_OP_IGNORE_UNEXPECTED_EOF},
    {"VERIFY_DEFAULT", 0}, {"VERIFY_CRL_CHECK_LEAF", X509_V_FLAG_CRL_CHECK},
    {"VERIFY_CRL_CHECK_CHAIN", X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL},
    {"VERIFY_X509_STRICT", X509_V_FLAG_X509_STRICT}, {"VERIFY_ALLOW_PROXY_CERTS", X509_V_FLAG_ALLOW_PROXY_CERTS},
    {"VERIFY_X509_TRUSTED_FIRST", X509_V_FLAG_TRUSTED_FIRST}, {"VERIFY_X509_PARTIAL_CHAIN", X509_V_FLAG_PARTIAL_CHAIN},
    {"HOSTFLAG_ALWAYS_CHECK_SUBJECT", X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT},
    {"HOSTFLAG_NEVER_CHECK_SUBJECT", X509_CHECK_FLAG_NEVER_CHECK_SUBJECT},
    {"HOSTFLAG_NO_WILDCARDS", X509_CHECK_FLAG_NO_WILDCARDS},
    {"HOSTFLAG_NO_PARTIAL_WILDCARDS", X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS},
    {"HOSTFLAG_MULTI_LABEL_WILDCARDS", X509_CHECK_FLAG_MULTI_LABEL_WILDCARDS},
    {"HOSTFLAG_SINGLE_LABEL_SUBDOMAINS", X509_CHECK_FLAG_SINGLE_LABEL_SUBDOMAINS},
    {"PROTO_MINIMUM_SUPPORTED", VERSION_MIN_SUPPORTED}, {"PROTO_MAXIMUM_SUPPORTED", VERSION_MAX_SUPPORTED},
    {"PROTO_SSLv3", SSL3_VERSION}, {"PROTO_TLSv1", TLS1_VERSION}, {"PROTO_TLSv1_1", TLS1_1_VERSION},
    {"PROTO_TLSv1_2", TLS1_2_VERSION}, {"PROTO_TLSv1_3", TLS1_3_VERSION},
    {"ENCODING_PEM", 1}, {"ENCODING_DER", 2},
    {"ALERT_DESCRIPTION_CLOSE_NOTIFY", SSL_AD_CLOSE_NOTIFY},
    {"ALERT_DESCRIPTION_UNEXPECTED_MESSAGE", SSL_AD_UNEXPECTED_MESSAGE},
    {"ALERT_DESCRIPTION_BAD_RECORD_MAC", SSL_AD_BAD_RECORD_MAC},
    {"ALERT_DESCRIPTION_RECORD_OVERFLOW", SSL_AD_RECORD_OVERFLOW},
    {"ALERT_DESCRIPTION_DECOMPRESSION_FAILURE", SSL_AD_DECOMPRESSION_FAILURE},
    {"ALERT_DESCRIPTION_HANDSHAKE_FAILURE", SSL_AD_HANDSHAKE_FAILURE},
    {"ALERT_DESCRIPTION_BAD_CERTIFICATE", SSL_AD_BAD_CERTIFICATE},
    {"ALERT_DESCRIPTION_UNSUPPORTED_CERTIFICATE", SSL_AD_UNSUPPORTED_CERTIFICATE},
    {"ALERT_DESCRIPTION_CERTIFICATE_REVOKED", SSL_AD_CERTIFICATE_REVOKED},
    {"ALERT_DESCRIPTION_CERTIFICATE_EXPIRED", SSL_AD_CERTIFICATE_EXPIRED},
    {"ALERT_DESCRIPTION_CERTIFICATE_UNKNOWN", SSL_AD_CERTIFICATE_UNKNOWN},
    {"ALERT_DESCRIPTION_ILLEGAL_PARAMETER", SSL_AD_ILLEGAL_PARAMETER},
    {"ALERT_DESCRIPTION_UNKNOWN_CA", SSL_AD_UNKNOWN_CA},
    {"ALERT_DESCRIPTION_ACCESS_DENIED", SSL_AD_ACCESS_DENIED},
    {"ALERT_DESCRIPTION_DECODE_ERROR", SSL_AD_DECODE_ERROR},
    {"ALERT_DESCRIPTION_DECRYPT_ERROR", SSL_AD_DECRYPT_ERROR},
    {"ALERT_DESCRIPTION_PROTOCOL_VERSION", SSL_AD_PROTOCOL_VERSION},
    {"ALERT_DESCRIPTION_INSUFFICIENT_SECURITY", SSL_AD_INSUFFICIENT_SECURITY},
    {"ALERT_DESCRIPTION_INTERNAL_ERROR", SSL_AD_INTERNAL_ERROR},
    {"ALERT_DESCRIPTION_USER_CANCELLED", SSL_AD_USER_CANCELLED},
    {"ALERT_DESCRIPTION_NO_RENEGOTIATION", SSL_AD_NO_RENEGOTIATION},
    {"ALERT_DESCRIPTION_UNSUPPORTED_EXTENSION", SSL_AD_UNSUPPORTED_EXTENSION},
    {"ALERT_DESCRIPTION_CERTIFICATE_UNOBTAINABLE", SSL_AD_CERTIFICATE_UNOBTAINABLE},
    {"ALERT_DESCRIPTION_UNRECOGNIZED_NAME", SSL_AD_UNRECOGNIZED_NAME},
    {"ALERT_DESCRIPTION_BAD_CERTIFICATE_STATUS_RESPONSE", SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE},
    {"ALERT_DESCRIPTION_BAD_CERTIFICATE_HASH_VALUE", SSL_AD_BAD_CERTIFICATE_HASH_VALUE},
    {"ALERT_DESCRIPTION_UNKNOWN_PSK_IDENTITY", SSL_AD_UNKNOWN_PSK_IDENTITY},
    {"OPENSSL_VERSION_NUMBER", OPENSSL_VERSION_NUMBER},
    {NULL, 0},
};

/* class NAME(*bases) in _ssl, __module__ 'ssl' as CPython's. */
static Value add_exception(TState *ts, ObjDict *ns, const char *name, ObjType *base, ObjType *base2) {
    ObjStr *module = str_intern_cstr(ts, "ssl");
    if (!module) return ERROR_VAL;
    if (!base2) return module_add_exception(ts, ns, module, name, base, NULL);
    Value bases[2] = {OBJ_VAL(base), OBJ_VAL(base2)};
    ObjTuple *t = tuple_from(ts, bases, 2);
    if (!t) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(t));
    ObjDict *body = dict_new(ts);
    Value cls = ERROR_VAL;
    if (body) {
        vm_push(ts, OBJ_VAL(body));
        ObjStr *n = str_intern_cstr(ts, name);
        if (n && dict_set_str(ts, body, ts->interp->names.module, OBJ_VAL(module)) == 0)
            cls = class_new(ts, ts->interp->types.type, n, t, body);
        if (!IS_ERROR(cls) && dict_set_str(ts, ns, n, cls) < 0) cls = ERROR_VAL;
        vm_pop(ts);
    }
    vm_pop(ts);
    return cls;
}

bool mod_ssl_init(TState *ts, ObjDict *ns) {
    if (!builtins_add_natives(ts, ns, ssl_functions)) return false;
    ObjStr *c_module = str_intern_cstr(ts, "_ssl");
    ObjType *ctx = type_from_spec(ts, &ctx_spec, NULL), *sock = ctx ? type_from_spec(ts, &sslsock_spec, NULL) : NULL;
    ObjType *bio = sock ? type_from_spec(ts, &membio_spec, NULL) : NULL;
    ObjType *session = bio ? type_from_spec(ts, &session_spec, NULL) : NULL;
    if (!c_module || !session) return false;
    ctx->module = sock->module = bio->module = session->module = OBJ_VAL(c_module);
    if (!builtins_add_value(ts, ns, "_SSLContext", OBJ_VAL(ctx)) ||
        !builtins_add_value(ts, ns, "_SSLSocket", OBJ_VAL(sock)) ||
        !builtins_add_value(ts, ns, "MemoryBIO", OBJ_VAL(bio)) ||
        !builtins_add_value(ts, ns, "SSLSession", OBJ_VAL(session)))
        return false;
    Value error = add_exception(ts, ns, "SSLError", ts->interp->exc.OSError, NULL);
    if (IS_ERROR(error)) return false;
    static const char *const subs[] = {"SSLZeroReturnError", "SSLWantReadError", "SSLWantWriteError",
                                       "SSLSyscallError", "SSLEOFError"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (IS_ERROR(add_exception(ts, ns, subs[i], AS_TYPE(error), NULL))) return false;
    if (IS_ERROR(add_exception(ts, ns, "SSLCertVerificationError", AS_TYPE(error), ts->interp->exc.ValueError)))
        return false;
    if (!builtins_add_ints(ts, ns, ssl_constants)) return false;
    unsigned long n = OpenSSL_version_num();
    Value info[5] = {INT_VAL((int64_t)(n >> 28) & 0xf), INT_VAL((int64_t)(n >> 20) & 0xff),
                     INT_VAL((int64_t)(n >> 12) & 0xff), INT_VAL((int64_t)(n >> 4) & 0xff), INT_VAL((int64_t)n & 0xf)};
    ObjTuple *vinfo = tuple_from(ts, info, 5);
    ObjStr *vtext = str_from_cstr(ts, OpenSSL_version(OPENSSL_VERSION)), *ciphers = str_from_cstr(ts, DEFAULT_CIPHERS);
    if (!vinfo || !vtext || !ciphers) return false;
    static const char *const flags[] = {"HAS_SNI", "HAS_ECDH", "HAS_NPN", "HAS_ALPN", "HAS_SSLv2", "HAS_SSLv3",
                                        "HAS_TLSv1", "HAS_TLSv1_1", "HAS_TLSv1_2", "HAS_TLSv1_3", "HAS_TLS_UNIQUE"};
    static const bool flag_values[] = {true, true, false, true, false, false, true, true, true, true, true};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!builtins_add_value(ts, ns, flags[i], BOOL_VAL(flag_values[i]))) return false;
    return builtins_add_value(ts, ns, "OPENSSL_VERSION_INFO", OBJ_VAL(vinfo)) &&
           builtins_add_value(ts, ns, "_OPENSSL_API_VERSION", OBJ_VAL(vinfo)) &&
           builtins_add_value(ts, ns, "OPENSSL_VERSION", OBJ_VAL(vtext)) &&
           builtins_add_value(ts, ns, "_DEFAULT_CIPHERS", OBJ_VAL(ciphers));
}
