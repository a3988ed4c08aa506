// The pages the account mails link to (MAILLON_PUBLIC_URL + /verifier, /reinitialiser, /email,
// each with ?token=), and "mot de passe oublié". The token goes in a POST body, never further.
import { useEffect, useState } from "preact/hooks";
import { post } from "../api";
import { session } from "../session";
import { Alert, Field, fieldError, Loading, Notice, PageTitle, useAction } from "../ui";

function tokenFromUrl(): string {
  return new URLSearchParams(location.search).get("token") ?? "";
}

/** Follows a link whose token is used at once: the e-mail verification, the e-mail change. */
function TokenLink({ title, path, done }: { title: string; path: string; done: string }) {
  const action = useAction();
  const [ok, setOk] = useState(false);
  useEffect(() => {
    const token = tokenFromUrl();
    // The token has done its work: it leaves the address bar (and the history).
    history.replaceState(null, "", location.pathname);
    void action.run(async () => {
      if (!token) throw new Error("no token");
      await post(path, { token }, { asSelf: true });
      setOk(true);
    });
  }, []);
  return (
    <section class="narrow">
      <PageTitle>{title}</PageTitle>
      <Loading when={action.busy}>
        {ok && <Notice>{done}</Notice>}
        {action.error ? (
          <>
            <Alert error={action.error} />
            <p>Ce lien n’est plus valable (déjà utilisé ou trop ancien). Demandez-en un nouveau depuis votre profil.</p>
          </>
        ) : null}
        <p>
          <a href={session.signedIn() ? "/profil" : "/connexion"}>{session.signedIn() ? "Aller à mon profil" : "Se connecter"}</a>
        </p>
      </Loading>
    </section>
  );
}

export function VerifyPage() {
  return <TokenLink title="Confirmation de l’adresse e-mail" path="/v1/auth/verify" done="Merci : votre adresse e-mail est confirmée." />;
}

export function EmailChangePage() {
  return <TokenLink title="Nouvelle adresse e-mail" path="/v1/auth/email/confirm" done="Votre nouvelle adresse e-mail est enregistrée." />;
}

export function ResetPage() {
  const [token] = useState(tokenFromUrl);
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const action = useAction();
  useEffect(() => history.replaceState(null, "", location.pathname), []);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await post("/v1/auth/password-reset/confirm", { token, password }, { asSelf: true });
      setDone(true);
    });
  };
  return (
    <section class="narrow">
      <PageTitle>Nouveau mot de passe</PageTitle>
      {done ? (
        <>
          <Notice>Votre mot de passe est changé. Toutes vos sessions ont été fermées : connectez-vous avec le nouveau.</Notice>
          <p>
            <a href="/connexion">Se connecter</a>
          </p>
        </>
      ) : (
        <form onSubmit={submit} noValidate>
          <Alert error={action.error} />
          <Field label="Nouveau mot de passe" hint="Au moins 10 caractères." error={fieldError(action.error, "password")}>
            {(p) => <input {...p} type="password" autoComplete="new-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}
          </Field>
          <button type="submit" class="button" disabled={action.busy || !token}>
            Enregistrer le mot de passe
          </button>
          {!token && <p class="hint">Ce lien est incomplet : demandez-en un nouveau.</p>}
        </form>
      )}
      <p>
        <a href="/mot-de-passe-oublie">Demander un nouveau lien</a>
      </p>
    </section>
  );
}

export function ForgotPage() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await post("/v1/auth/password-reset", { email }, { asSelf: true });
      setSent(true);
    });
  };
  return (
    <section class="narrow">
      <PageTitle>Mot de passe oublié</PageTitle>
      {sent ? (
        <Notice>Si un compte existe à cette adresse, un lien pour choisir un nouveau mot de passe vient d’y être envoyé. Il reste valable une heure.</Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          <Alert error={action.error} />
          <Field label="Adresse e-mail" error={fieldError(action.error, "email")}>
            {(p) => <input {...p} type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}
          </Field>
          <button type="submit" class="button" disabled={action.busy}>
            Recevoir un lien
          </button>
        </form>
      )}
      <p>
        <a href="/connexion">Revenir à la connexion</a>
      </p>
    </section>
  );
}
