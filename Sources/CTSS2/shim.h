// libtss2 from Debian's libtss2-dev: the enhanced system API, the TCTI loader (the policy's
// `tcti =` string picks the transport), marshalling of key blobs, response-code text.
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
