// Sign-in and sign-up. A new member picks their home site; its community is theirs.
import { useState } from "preact/hooks";
import { get, post } from "../api";
import { navigate } from "../router";
import { session } from "../session";
import type { Me, Session, Site } from "../types";
import { Alert, Field, fieldError, Notice, PageTitle, useAction } from "../ui";

function begin(answer: Session, next: string) {
  session.actFor(null);
  session.start(answer);
  navigate(next, true);
  // The login's answer leaves out what only GET /v1/me tells (the communities one administers).
  void get<Me>("/v1/me", { asSelf: true })
    .then((profile) => {
      if (session.me()?.id === profile.id) session.refresh(profile);
    })
    .catch(() => undefined);
}

export function LoginPage({ next = "/" }: { next?: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => begin(await post<Session>("/v1/auth/login", { email, password }), next));
  };
  return (
    <section class="narrow">
      <PageTitle>Se connecter</PageTitle>
      {new URLSearchParams(location.search).get("compte") === "supprime" && (
        <Notice>Votre compte est supprimé. Merci d’avoir participé à Maillon.</Notice>
      )}
      <form onSubmit={submit} noValidate>
        <Alert error={action.error} />
        <Field label="Adresse e-mail" error={fieldError(action.error, "email")}>
          {(p) => (
            <input {...p} type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="Mot de passe" error={fieldError(action.error, "password")}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          )}
        </Field>
        <button type="submit" class="button" disabled={action.busy}>
          Se connecter
        </button>
      </form>
      <p>
        Pas encore de compte ? <a href="/inscription">Créer un compte</a>
      </p>
      <p>
        <a href="/mot-de-passe-oublie">Mot de passe oublié ?</a>
      </p>
    </section>
  );
}

export { SitePicker } from "../sitepicker";
import { SitePicker } from "../sitepicker";

export function RegisterPage() {
  const [form, setForm] = useState({ display_name: "", email: "", password: "" });
  const [site, setSite] = useState<Site | undefined>(undefined);
  const action = useAction();
  const set = (key: keyof typeof form) => (e: { currentTarget: HTMLInputElement }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = { ...form, community_id: site?.community_id ?? "", home_site_id: site?.id ?? null };
      begin(await post<Session>("/v1/auth/register", body), "/");
    });
  };
  const siteError = fieldError(action.error, "home_site_id", "community_id");
  return (
    <section class="narrow">
      <PageTitle>Créer un compte</PageTitle>
      <form onSubmit={submit} noValidate>
        <Alert error={action.error} />
        <Field label="Votre nom ou prénom" hint="C’est ce que verront les autres membres." error={fieldError(action.error, "display_name")}>
          {(p) => <input {...p} autoComplete="name" required value={form.display_name} onInput={set("display_name")} />}
        </Field>
        <Field label="Adresse e-mail" error={fieldError(action.error, "email")}>
          {(p) => <input {...p} type="email" autoComplete="email" required value={form.email} onInput={set("email")} />}
        </Field>
        <Field label="Mot de passe" hint="Au moins 10 caractères." error={fieldError(action.error, "password")}>
          {(p) => (
            <input {...p} type="password" autoComplete="new-password" required value={form.password} onInput={set("password")} />
          )}
        </Field>
        <SitePicker
          label="Votre lieu de rattachement"
          value={site?.id ?? ""}
          onChange={setSite}
          error={siteError ? "Choisissez votre lieu de rattachement." : undefined}
        />
        <button type="submit" class="button" disabled={action.busy}>
          Créer mon compte
        </button>
      </form>
      <p>
        Déjà membre ? <a href="/connexion">Se connecter</a>
      </p>
    </section>
  );
}
