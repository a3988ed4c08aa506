// Whether the calling thread wrote outbox rows (Outbox::add, add_written, written_statements)
// since it last asked; asking clears it. The commit hook pokes the relay only then: a commit that
// wrote no event (a periodic job's, a read model's) has nothing to publish.
#pragma once

namespace maillon {

bool take_outbox_written();
// Sets it: for a writer whose outbox statements are written on another thread (the ledger's
// large batches) but run in this thread's transaction.
void mark_outbox_written();

}  // namespace maillon
