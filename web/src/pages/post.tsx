// Posting an offer or a request. The place is the member's home site by default; the browser's
// position is used only after the member asks for it, and only rounded areas are shown to others.
import { useState } from "preact/hooks";
import { post, uploadPhoto } from "../api";
import type { Photo } from "../api";
import { categories, flatten, listingPath } from "../catalog";
import { navigate } from "../router";
import { session } from "../session";
import type { Listing, Position, Site } from "../types";
import { Alert, Field, fieldError, Notice, PageTitle, useAction, useLoad } from "../ui";
import { SitePicker } from "./auth";

type Side = "offers" | "requests";

const MODES: Record<"good" | "service", [string, string][]> = {
  good: [
    ["give", "Don"],
    ["lend", "Prêt"],
    ["swap", "Troc"],
  ],
  service: [["service", "Service"]],
};

function LocationChoice({
  siteId,
  setSiteId,
  position,
  setPosition,
  error,
}: {
  siteId: string;
  setSiteId: (id: string) => void;
  position: Position | null;
  setPosition: (p: Position | null) => void;
  error?: string;
}) {
  const [message, setMessage] = useState("");
  const useBrowser = () => {
    setMessage("");
    if (!navigator.geolocation) return setMessage("Votre navigateur ne donne pas de position.");
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setPosition({ lat: p.coords.latitude, lon: p.coords.longitude });
        setMessage("Position enregistrée pour cette annonce. Les autres ne verront qu’un quartier approximatif.");
      },
      () => setMessage("Position refusée ou indisponible : choisissez plutôt un lieu."),
      { timeout: 10_000 },
    );
  };
  return (
    <fieldset>
      <legend>Où se fait l’échange ?</legend>
      <SitePicker label="Lieu de remise" value={position ? "" : siteId} onChange={(s: Site | undefined) => {
        setPosition(null);
        setSiteId(s?.id ?? "");
      }} error={error} />
      <p class="hint">Ou, si vous êtes d’accord pour partager votre position :</p>
      <div class="row">
        <button type="button" class="button button--light" onClick={useBrowser}>
          Utiliser ma position actuelle
        </button>
        {position && (
          <button type="button" class="button button--light" onClick={() => setPosition(null)}>
            Ne pas utiliser ma position
          </button>
        )}
      </div>
      {message && <p class="hint" role="status">{message}</p>}
    </fieldset>
  );
}

// A listing carries at most this many photos (the API's limit).
const PHOTOS_MAX = 6;

export function Photos({ photos, setPhotos, error }: { photos: Photo[]; setPhotos: (p: Photo[]) => void; error?: string }) {
  const action = useAction();
  const add = (event: { currentTarget: HTMLInputElement }) => {
    const files = [...(event.currentTarget.files ?? [])].slice(0, PHOTOS_MAX - photos.length);
    event.currentTarget.value = "";
    void action.run(async () => {
      const added: Photo[] = [];
      for (const file of files) added.push(await uploadPhoto(file));
      setPhotos([...photos, ...added]);
    });
  };
  return (
    <fieldset>
      <legend>Photos (facultatif, jusqu’à {PHOTOS_MAX})</legend>
      <Alert error={action.error} />
      {error && <p class="field-error">Les photos n’ont pas pu être jointes : {error}</p>}
      {photos.length > 0 && (
        <ul class="photos" aria-label="Photos ajoutées">
          {photos.map((photo, i) => (
            <li key={photo.id}>
              <img src={photo.thumb_url} alt={`Photo ${i + 1}`} width={96} height={96} />
              <button type="button" class="button button--light" onClick={() => setPhotos(photos.filter((p) => p.id !== photo.id))} aria-label={`Retirer la photo ${i + 1}`}>
                Retirer
              </button>
            </li>
          ))}
        </ul>
      )}
      {photos.length < PHOTOS_MAX && (
        <Field label="Ajouter des photos" hint="JPEG, PNG, WebP ou HEIC, 10 Mo au plus. Les données de localisation des photos sont effacées.">
          {(p) => <input {...p} type="file" accept="image/jpeg,image/png,image/webp,image/heic" multiple disabled={action.busy} onChange={add} />}
        </Field>
      )}
      {action.busy && <p class="hint" role="status">Envoi des photos…</p>}
    </fieldset>
  );
}

export function PostPage() {
  const tree = useLoad(categories, []);
  const [side, setSide] = useState<Side>("offers");
  const [kind, setKind] = useState<"good" | "service">("good");
  const [mode, setMode] = useState("give");
  const [form, setForm] = useState({ category: "", title: "", description: "", duration: "60", price: "", reach: "5", deposit: "" });
  const [siteId, setSiteId] = useState(session.me()?.home_site_id ?? "");
  const [position, setPosition] = useState<Position | null>(null);
  const [created, setCreated] = useState<Listing | null>(null);
  const [photos, setPhotos] = useState<Photo[]>([]);
  const action = useAction();
  const set = (key: keyof typeof form) => (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  const options = flatten(tree.data ?? []).filter((c) => c.kind === kind);
  const changeKind = (next: "good" | "service") => {
    setKind(next);
    setMode(MODES[next][0][0]);
    setForm({ ...form, category: "" });
  };
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body: Record<string, unknown> = { kind, mode, category: form.category, title: form.title, reach_km: Number(form.reach) };
      if (form.description) body.description = form.description;
      if (kind === "service") body.duration_minutes = Number(form.duration);
      if (side === "offers" && form.price) body.price_minutes = Number(form.price);
      if (side === "offers" && mode === "lend" && form.deposit) body.deposit_minutes = Number(form.deposit);
      if (photos.length) body.photos = photos.map((p) => p.id);
      if (position) body.location = position;
      else if (siteId) body.site_id = siteId;
      setCreated(await post<Listing>(`/v1/${side}`, body));
    });
  };
  if (created) {
    return (
      <>
        <PageTitle>Annonce publiée</PageTitle>
        <Notice>« {created.title} » est en ligne. Les correspondances apparaissent sur votre accueil.</Notice>
        <p>
          <a href={listingPath(side === "offers" ? "offer" : "request", created.id)}>Voir l’annonce</a>
        </p>
        <div class="row">
          <button type="button" class="button" onClick={() => navigate("/")}>Voir mes correspondances</button>
          <button type="button" class="button button--light" onClick={() => { setCreated(null); setPhotos([]); }}>Publier une autre annonce</button>
        </div>
      </>
    );
  }
  const e = action.error;
  return (
    <>
      <PageTitle>Publier une annonce</PageTitle>
      <form onSubmit={submit} noValidate>
        <Alert error={e} />
        <fieldset>
          <legend>Je publie</legend>
          <label class="choice"><input type="radio" name="side" checked={side === "offers"} onChange={() => setSide("offers")} /> une offre (je propose)</label>
          <label class="choice"><input type="radio" name="side" checked={side === "requests"} onChange={() => setSide("requests")} /> une demande (je cherche)</label>
        </fieldset>
        <fieldset>
          <legend>Il s’agit</legend>
          <label class="choice"><input type="radio" name="kind" checked={kind === "good"} onChange={() => changeKind("good")} /> d’un objet</label>
          <label class="choice"><input type="radio" name="kind" checked={kind === "service"} onChange={() => changeKind("service")} /> d’un service</label>
        </fieldset>
        {kind === "good" && (
          <Field label="Façon d’échanger" error={fieldError(e, "mode")}>
            {(p) => (
              <select {...p} value={mode} onChange={(ev) => setMode(ev.currentTarget.value)}>
                {MODES.good.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
              </select>
            )}
          </Field>
        )}
        <Field label="Catégorie" error={fieldError(e, "category") ?? (tree.error ? "Les catégories n’ont pas pu être chargées." : undefined)}>
          {(p) => (
            <select {...p} value={form.category} onChange={set("category")}>
              <option value="">Choisissez une catégorie</option>
              {options.map((c) => (
                <option key={c.slug} value={c.slug}>{`${"\u00a0\u00a0".repeat(c.depth)}${c.label}`}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Titre" hint="Quelques mots : « Perceuse à prêter », « Aide pour un dossier CAF »." error={fieldError(e, "title")}>
          {(p) => <input {...p} value={form.title} onInput={set("title")} maxLength={120} />}
        </Field>
        <Field label="Description (facultatif)" error={fieldError(e, "description")}>
          {(p) => <textarea {...p} rows={3} value={form.description} onInput={set("description")} />}
        </Field>
        {kind === "service" && (
          <Field label="Durée prévue (minutes)" error={fieldError(e, "duration_minutes")}>
            {(p) => <input {...p} type="number" inputMode="numeric" min={15} step={15} value={form.duration} onInput={set("duration")} />}
          </Field>
        )}
        {side === "offers" && (
          <Field label="Crédits demandés (minutes, facultatif)" hint="Laissez vide pour un don." error={fieldError(e, "price_minutes")}>
            {(p) => <input {...p} type="number" inputMode="numeric" min={0} step={15} value={form.price} onInput={set("price")} />}
          </Field>
        )}
        {side === "offers" && kind === "good" && mode === "lend" && (
          <Field
            label="Caution (minutes, facultatif)"
            hint="Réservée sur les crédits de l’emprunteur quand vous acceptez, libérée au retour, versée à vous si l’objet est perdu."
            error={fieldError(e, "deposit_minutes")}
          >
            {(p) => <input {...p} type="number" inputMode="numeric" min={0} step={15} value={form.deposit} onInput={set("deposit")} />}
          </Field>
        )}
        <Field label="Distance maximale (km)" error={fieldError(e, "reach_km")}>
          {(p) => <input {...p} type="number" inputMode="decimal" min={0.1} max={50} step={0.5} value={form.reach} onInput={set("reach")} />}
        </Field>
        <Photos photos={photos} setPhotos={setPhotos} error={fieldError(e, "photos", ...photos.map((_, i) => `photos[${i}]`))} />
        <LocationChoice siteId={siteId} setSiteId={setSiteId} position={position} setPosition={setPosition} error={fieldError(e, "site_id", "location")} />
        <button type="submit" class="button" disabled={action.busy}>
          Publier
        </button>
      </form>
    </>
  );
}
