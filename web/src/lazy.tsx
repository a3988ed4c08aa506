// A page component loaded on demand (its own file, fetched the first time it is shown).
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

type Page<P> = (props: P) => JSX.Element;

export function lazy<P extends object>(load: () => Promise<Page<P>>): Page<P> {
  let loaded: Page<P> | null = null;
  return function Lazy(props: P) {
    const [, setTick] = useState(0);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      load()
        .then((component) => {
          loaded = component;
          setTick((t) => t + 1);
        })
        .catch(() => setFailed(true));
    }, []);
    if (loaded) {
      const Component = loaded;
      return <Component {...props} />;
    }
    return (
      <p class={failed ? "alert" : "loading"} role={failed ? "alert" : "status"}>
        {failed ? "Cette page n’a pas pu être chargée. Vérifiez votre connexion puis rechargez la page." : "Chargement…"}
      </p>
    );
  };
}
