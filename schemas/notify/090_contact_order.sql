-- A member's contacts (member.contact) in the order they were written, not read: with several
-- replicas reading the members stream, the registration's contact (address not verified) can be
-- applied after the verification's, and the member would never be mailed again. Each contact
-- keeps the time of its event; an older one read late changes nothing.
ALTER TABLE recipients ADD COLUMN IF NOT EXISTS contact_at timestamptz;
