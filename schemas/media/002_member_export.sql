-- Each photo keeps the addresses it was answered with at upload (MAILLON_MEDIA_URL, or the
-- S3-compatible store's), so that the RGPD export names the same ones whatever the settings are
-- later. Photos made before this file were all under the gateway's /media/.
ALTER TABLE media.photos ADD COLUMN url text, ADD COLUMN thumb_url text;
UPDATE media.photos
SET url = '/media/' || left(id::text, 2) || '/' || id::text || '.jpg',
    thumb_url = '/media/' || left(id::text, 2) || '/' || id::text || '-thumb.jpg'
WHERE url IS NULL;
ALTER TABLE media.photos ALTER COLUMN url SET NOT NULL, ALTER COLUMN thumb_url SET NOT NULL;

-- RGPD export (published function, called by the members service for GET /v1/me/export;
-- SECURITY DEFINER and read-only, like notify.member_export): the photos the member uploaded,
-- oldest first, at most 10000 ("truncated" says when cut). Photos staff uploaded for them are
-- theirs (owner_id); acted_by is not the member's data and stays out.
CREATE FUNCTION media.member_export(p_member uuid) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = media, pg_temp SET timezone = 'UTC' AS $$
  WITH theirs AS (
    SELECT * FROM photos WHERE owner_id = p_member ORDER BY created_at, id LIMIT 10001
  )
  SELECT json_build_object(
    'photos', COALESCE((
      SELECT json_agg(json_build_object(
               'id', p.id, 'url', p.url, 'thumb_url', p.thumb_url, 'width', p.width,
               'height', p.height, 'source_type', p.source_type, 'created_at', p.created_at)
             ORDER BY p.created_at, p.id)
      FROM (SELECT * FROM theirs ORDER BY created_at, id LIMIT 10000) p), '[]'::json),
    'truncated', (SELECT count(*) FROM theirs) > 10000)
$$;
