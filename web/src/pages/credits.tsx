// My time credits: balance, what is held for accepted exchanges, and the history of entries.
import { get } from "../api";
import { session } from "../session";
import type { Account, Entry, Page } from "../types";
import { Alert, memberNumber, formatDate, formatMinutes, Loading, PageTitle, useLoad } from "../ui";

const KIND_LABEL: Record<string, string> = {
  exchange: "Échange",
  bonus: "Bonus de bienvenue",
  allowance: "Allocation mensuelle",
  deposit_reward: "Dépôt d’un objet",
  loan: "Emprunt d’un objet",
  manual: "Virement",
  correction: "Correction",
};

// Staff acting for a member read that member's number, not "yours".
function MemberNumber() {
  const acting = session.actingFor();
  const me = session.me();
  if (acting) {
    return (
      <p class="hint">
        Numéro de membre de {acting.display_name} : <code>{memberNumber(acting)}</code>
      </p>
    );
  }
  return (
    <p class="hint">
      Votre numéro de membre, à donner à l’accueil d’un lieu : <code>{me ? memberNumber(me) : ""}</code>
    </p>
  );
}

export function CreditsPage() {
  const member = session.memberId() ?? "";
  const account = useLoad(() => get<Account>(`/v1/ledger/accounts/${member}`), [member]);
  const entries = useLoad(async () => (await get<Page<Entry>>(`/v1/ledger/accounts/${member}/entries?limit=50`)).items, [member]);
  const a = account.data;
  return (
    <>
      <PageTitle>Mes crédits</PageTitle>
      <MemberNumber />
      <Alert error={account.error} />
      <Loading when={account.loading && !a}>
        {a && (
          <section aria-labelledby="titre-solde" class="balance">
            <h2 id="titre-solde">Solde</h2>
            <p class="big" data-testid="solde">
              {formatMinutes(a.balance_minutes)}
            </p>
            <dl class="facts">
              <dt>Disponible</dt>
              <dd>{formatMinutes(a.available_minutes)}</dd>
              <dt>Réservé pour des échanges acceptés</dt>
              <dd>{formatMinutes(a.pending_debit_minutes)}</dd>
              <dt>À recevoir</dt>
              <dd>{formatMinutes(a.pending_credit_minutes)}</dd>
              <dt>Découvert permis jusqu’à</dt>
              <dd>{formatMinutes(a.min_balance)}</dd>
            </dl>
          </section>
        )}
      </Loading>
      <section aria-labelledby="titre-historique">
        <h2 id="titre-historique">Historique</h2>
        <Alert error={entries.error} />
        <Loading when={entries.loading && !entries.data}>
          {entries.data?.length ? (
            <div class="table-wrap" tabIndex={0} role="region" aria-label="Historique des mouvements">
              <table>
                <caption class="sr-only">Mouvements de crédits, du plus récent au plus ancien</caption>
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Motif</th>
                    <th scope="col">Montant</th>
                    <th scope="col">Solde après</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.data.map((e) => (
                    <tr key={e.transfer_id}>
                      <td>{formatDate(e.at)}</td>
                      <td>{KIND_LABEL[e.kind] ?? e.kind}</td>
                      <td class={e.amount_minutes < 0 ? "minus" : "plus"}>
                        {e.amount_minutes > 0 ? "+" : ""}
                        {formatMinutes(e.amount_minutes)}
                      </td>
                      <td>{formatMinutes(e.balance_after_minutes)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p>Aucun mouvement.</p>
          )}
        </Loading>
      </section>
    </>
  );
}
