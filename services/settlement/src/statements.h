// Statements: a party's movements read back from the ledger's durable transfers.
//
// Reads only: the entries of the party's payable and receivable accounts (set/lg/e/…, in the
// order the ledger applied them), each transfer, and the order books the transfers name (for a
// sale's or reversal's fee). Writes nothing. Runs on the settlement worker; the store may be read
// from any thread, so only the caller's choice of thread matters.
#pragma once

#include "pavilion/events/schema.h"
#include "pavilion/settlement/exports.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::settlement {

Result<Statement> ReadStatement(storage::KvStore& kv, const StatementQuery& q);

}  // namespace pavilion::settlement
