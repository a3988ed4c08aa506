// The member's profile: who they are, password and e-mail, open sessions, notification
// preferences, and their RGPD rights: a download of all their data, and erasure (password and
// a confirmation asked first). Sections whose API is not served here stay hidden.
import { useState } from "preact/hooks";
import { ApiError, call, del, get, post, put } from "../api";
import { sites } from "../catalog";
import { navigate } from "../router";
import { session } from "../session";
import type { Page } from "../types";
import { Alert, ConfirmButton, Field, fieldError, formatDate, Loading, memberNumber, Notice, PageTitle, useAction, useLoad } from "../ui";

const missing = (error: unknown) => error instanceof ApiError && (error.status === 404 || error.status === 405);

function Identity() {
  const me = session.me();
  const home = useLoad(async () => (await sites()).find((s) => s.id === me?.home_site_id)?.name ?? "", [me?.home_site_id]);
  if (!me) return null;
  return (
    <dl class="facts">
      <dt>Nom</dt>
      <dd>{me.display_name}</dd>
      <dt>Adresse e-mail</dt>
      <dd>
        {me.email} {me.email_verified === false && <span class="hint">(pas encore confirmée : suivez le lien reçu par e-mail)</span>}
      </dd>
      <dt>Numéro de membre</dt>
      <dd>
        <code>{memberNumber(me)}</code>
      </dd>
      <dt>Lieu de rattachement</dt>
      <dd>{home.data || "aucun"}</dd>
    </dl>
  );
}

function Password() {
  const [form, setForm] = useState({ current_password: "", password: "" });
  const [done, setDone] = useState(false);
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    setDone(false);
    void action.run(async () => {
      await post("/v1/me/password", form, { asSelf: true });
      setForm({ current_password: "", password: "" });
      setDone(true);
    });
  };
  const e = action.error;
  return (
    <section aria-labelledby="titre-mdp">
      <h2 id="titre-mdp">Changer de mot de passe</h2>
      <form onSubmit={submit} noValidate>
        {done && <Notice>Mot de passe changé. Vos autres sessions ont été fermées.</Notice>}
        <Alert error={e} />
        <Field label="Mot de passe actuel" error={fieldError(e, "current_password")}>
          {(p) => <input {...p} type="password" autoComplete="current-password" value={form.current_password} onInput={(ev) => setForm({ ...form, current_password: ev.currentTarget.value })} />}
        </Field>
        <Field label="Nouveau mot de passe" hint="Au moins 10 caractères." error={fieldError(e, "password")}>
          {(p) => <input {...p} type="password" autoComplete="new-password" value={form.password} onInput={(ev) => setForm({ ...form, password: ev.currentTarget.value })} />}
        </Field>
        <button type="submit" class="button" disabled={action.busy}>
          Changer le mot de passe
        </button>
      </form>
    </section>
  );
}

function Email() {
  const [form, setForm] = useState({ email: "", password: "" });
  const [sentTo, setSentTo] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await post("/v1/me/email", form, { asSelf: true });
      setSentTo(form.email);
      setForm({ email: "", password: "" });
    });
  };
  const e = action.error;
  return (
    <section aria-labelledby="titre-email">
      <h2 id="titre-email">Changer d’adresse e-mail</h2>
      <form onSubmit={submit} noValidate>
        {sentTo && <Notice>Un lien de confirmation a été envoyé à {sentTo}. L’adresse change quand vous le suivez.</Notice>}
        <Alert error={e} />
        <Field label="Nouvelle adresse e-mail" error={fieldError(e, "email")}>
          {(p) => <input {...p} type="email" autoComplete="email" value={form.email} onInput={(ev) => setForm({ ...form, email: ev.currentTarget.value })} />}
        </Field>
        <Field label="Votre mot de passe" error={fieldError(e, "password")}>
          {(p) => <input {...p} type="password" autoComplete="current-password" value={form.password} onInput={(ev) => setForm({ ...form, password: ev.currentTarget.value })} />}
        </Field>
        <button type="submit" class="button" disabled={action.busy}>
          Changer l’adresse
        </button>
      </form>
    </section>
  );
}

interface SessionRow {
  id: string;
  created_at: string;
  last_seen_at: string;
  user_agent: string | null;
  current: boolean;
}

function Sessions() {
  const list = useLoad(async () => (await get<Page<SessionRow>>("/v1/me/sessions?limit=50", { asSelf: true })).items, []);
  const action = useAction();
  if (missing(list.error)) return null;
  const end = (id: string) =>
    action.run(async () => {
      await del(`/v1/me/sessions/${id}`, { asSelf: true });
      await list.reload();
    });
  return (
    <section aria-labelledby="titre-sessions">
      <h2 id="titre-sessions">Mes sessions ouvertes</h2>
      <Alert error={list.error ?? action.error} />
      <Loading when={list.loading && !list.data}>
        <ul class="cards">
          {(list.data ?? []).map((s) => (
            <li class="card" key={s.id}>
              <p>
                <strong>{s.current ? "Cet appareil" : s.user_agent || "Appareil inconnu"}</strong>
              </p>
              <p class="hint">
                Ouverte le {formatDate(s.created_at)} · dernière activité le {formatDate(s.last_seen_at)}
              </p>
              {!s.current && (
                <button type="button" class="button button--light" disabled={action.busy} onClick={() => end(s.id)} aria-label={`Fermer cette session, ouverte le ${formatDate(s.created_at)}`}>
                  Fermer cette session
                </button>
              )}
            </li>
          ))}
        </ul>
      </Loading>
    </section>
  );
}

type EmailPace = "instant" | "digest" | "off";
interface Preferences {
  kinds: Record<string, { in_app: boolean; email: EmailPace }>;
}
const KIND_LABEL: Record<string, string> = {
  "match.new": "Nouvelle correspondance",
  "exchange.update": "Suivi de mes échanges",
  "exchange.message": "Messages reçus",
  "loan.reminder": "Rappel de retour d’un prêt",
  "loan.late": "Prêt en retard",
  "loan.available": "Objet attendu revenu (file d’attente)",
  "reservation.expiring": "Réservation bientôt expirée",
  "item.unclaimed": "Objet non réclamé (accueil)",
  "desk.dispute": "Litige à traiter (accueil)",
  "desk.digest": "Résumé du jour (accueil)",
  "federation.reconciliation": "Écart de rapprochement d’un lien (administration)",
};

function PreferencesForm() {
  const prefs = useLoad(() => get<Preferences>("/v1/me/preferences", { asSelf: true }), []);
  const action = useAction();
  const [saved, setSaved] = useState(false);
  if (missing(prefs.error)) return null;
  const p = prefs.data;
  const change = (kind: string, patch: Partial<{ in_app: boolean; email: EmailPace }>) => {
    if (!p) return;
    setSaved(false);
    prefs.setData({ kinds: { ...p.kinds, [kind]: { ...p.kinds[kind], ...patch } } });
  };
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      prefs.setData(await put<Preferences>("/v1/me/preferences", p, { asSelf: true }));
      setSaved(true);
    });
  };
  return (
    <section aria-labelledby="titre-prefs">
      <h2 id="titre-prefs">Mes notifications</h2>
      <Alert error={prefs.error ?? action.error} />
      <Loading when={prefs.loading && !p}>
        {p && (
          <form onSubmit={submit} noValidate>
            {Object.entries(p.kinds).map(([kind, value]) => (
              <fieldset key={kind}>
                <legend>{KIND_LABEL[kind] ?? kind}</legend>
                <label class="choice">
                  <input type="checkbox" checked={value.in_app} onChange={(e) => change(kind, { in_app: e.currentTarget.checked })} /> Dans Maillon
                </label>
                <Field label="Par e-mail">
                  {(f) => (
                    <select {...f} value={value.email} onChange={(e) => change(kind, { email: e.currentTarget.value as EmailPace })}>
                      <option value="instant">tout de suite</option>
                      <option value="digest">dans un résumé quotidien</option>
                      <option value="off">jamais</option>
                    </select>
                  )}
                </Field>
              </fieldset>
            ))}
            {saved && <Notice>Préférences enregistrées.</Notice>}
            <button type="submit" class="button" disabled={action.busy}>
              Enregistrer mes préférences
            </button>
          </form>
        )}
      </Loading>
    </section>
  );
}

/** All the member's data as a JSON file (RGPD portability), saved by the browser. */
function Export() {
  const action = useAction();
  const download = () =>
    action.run(async () => {
      const data = await get<unknown>("/v1/me/export", { asSelf: true });
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `maillon-mes-donnees-${new Date().toISOString().slice(0, 10)}.json`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  return (
    <section aria-labelledby="titre-export">
      <h2 id="titre-export">Mes données</h2>
      <p>Téléchargez tout ce que Maillon garde sur vous, dans un fichier que d’autres services peuvent lire (JSON).</p>
      <Alert error={action.error} />
      <button type="button" class="button button--light" onClick={download} disabled={action.busy}>
        Télécharger mes données
      </button>
    </section>
  );
}

function Erase() {
  const [password, setPassword] = useState("");
  const action = useAction();
  const erase = () =>
    action.run(async () => {
      try {
        await call("DELETE", "/v1/me", { body: { password }, asSelf: true });
      } catch (e) {
        if (e instanceof ApiError && e.status === 403 && e.code === "wrong-password") {
          throw new ApiError(403, e.code, "Mot de passe incorrect : votre compte n’a pas été supprimé.", []);
        }
        throw e;
      }
      session.expire();
      navigate("/connexion?compte=supprime", true);
    });
  return (
    <section aria-labelledby="titre-effacement">
      <h2 id="titre-effacement">Supprimer mon compte</h2>
      <p>
        Vos données personnelles seront effacées et vos échanges en cours annulés. L’historique des crédits est gardé sous un pseudonyme, pour que
        les comptes du réseau restent justes.
      </p>
      <Alert error={action.error} />
      <Field label="Votre mot de passe, pour confirmer" error={fieldError(action.error, "password")}>
        {(p) => <input {...p} type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}
      </Field>
      <ConfirmButton
        label="Supprimer mon compte"
        question="Supprimer définitivement votre compte ? Cette action ne peut pas être annulée."
        yes="Oui, supprimer mon compte"
        disabled={action.busy || !password}
        onConfirm={erase}
      />
    </section>
  );
}

export function ProfilePage() {
  const acting = session.actingFor();
  if (acting) {
    return (
      <>
        <PageTitle>Mon profil</PageTitle>
        <p>Vous agissez pour {acting.display_name} : son profil et ses données restent à lui. Arrêtez d’agir pour lui pour voir le vôtre.</p>
      </>
    );
  }
  return (
    <>
      <PageTitle>Mon profil</PageTitle>
      <Identity />
      <PreferencesForm />
      <Password />
      <Email />
      <Sessions />
      <Export />
      <Erase />
    </>
  );
}
