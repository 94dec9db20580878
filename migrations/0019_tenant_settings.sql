-- A tenant's settings (the country local phone numbers belong to, base currency, language,
-- how new chats are assigned, what agents see), and each user's availability for assignment.
ALTER TABLE tenants
    ADD COLUMN default_country text CHECK (default_country ~ '^[A-Z]{2}$'),
    ADD COLUMN base_currency text NOT NULL DEFAULT 'USD' CHECK (base_currency ~ '^[A-Z]{3}$'),
    ADD COLUMN locale text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'ru', 'uz')),
    ADD COLUMN auto_assign text NOT NULL DEFAULT 'off' CHECK (auto_assign IN ('off', 'round_robin')),
    ADD COLUMN record_visibility text NOT NULL DEFAULT 'all' CHECK (record_visibility IN ('all', 'own'));

ALTER TABLE users
    -- Marked away: signed in, but not given new chats.
    ADD COLUMN away boolean NOT NULL DEFAULT false,
    -- Round robin gives the next chat to the available agent given one longest ago.
    ADD COLUMN last_assigned_at timestamptz;

-- Changing the settings is the admins'.
INSERT INTO permissions (name) VALUES ('SettingsManage');
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'SettingsManage');
