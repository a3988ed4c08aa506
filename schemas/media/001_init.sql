-- Media service: photos members upload for their listings and depot items. The files live in
-- the storage (a directory in development, an S3-compatible store in production); this table
-- says whose each photo is and what was stored, so that a listing names only its owner's photos.
CREATE TABLE photos (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL,
  -- Staff uploading at the desk for a member: the one who really acted.
  acted_by uuid NOT NULL,
  width integer NOT NULL CHECK (width > 0),
  height integer NOT NULL CHECK (height > 0),
  thumb_width integer NOT NULL CHECK (thumb_width > 0),
  thumb_height integer NOT NULL CHECK (thumb_height > 0),
  -- What the client sent, as sniffed from its bytes (jpeg, png, webp, heic): never its file name.
  source_type text NOT NULL,
  source_bytes integer NOT NULL CHECK (source_bytes > 0),
  stored_bytes integer NOT NULL CHECK (stored_bytes > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX photos_owner ON photos (owner_id, created_at);

-- Published to the listing and depot services: how many of `p_ids` are photos uploaded for
-- `p_owner`. They accept a list of photos only when every id is one (no read of the table).
CREATE FUNCTION owned_photo_count(p_owner uuid, p_ids uuid[]) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = media, pg_temp AS $$
  SELECT count(DISTINCT p.id)::integer FROM photos p
  WHERE p.owner_id = p_owner AND p.id = ANY (p_ids)
$$;
