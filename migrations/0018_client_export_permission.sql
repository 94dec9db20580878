-- Exporting the client list (every match, PINs and passports included) is its own permission:
-- admins and agents have it, viewers, who may read one client at a time, do not.
INSERT INTO permissions (name) VALUES ('ClientExport');
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'ClientExport'), ('agent', 'ClientExport');
