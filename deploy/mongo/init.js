// The database's part of the platform, run by the healthcheck of the `mongodb` container
// (docker-compose.yml) as its administrator, every time: whatever is done already is left alone.
// - The single-node replica set (transactions and change streams need one), initiated once.
// - One user per service, with readWrite on the service's own database only (bkpm_<service>),
//   its password from MONGO_<SERVICE>_PASSWORD: a service cannot read another's data, and the
//   gateway has no database user at all. A deployment from before these users gets them at its
//   first start with this file (docs/operations.md, "Per-service database users").
// Healthy (exit 0) once the set has a primary and every service has its user.
const SERVICES = ['organisasi', 'kegiatan', 'bantuan', 'notifikasi', 'akun'];
const PREFIX = process.env.BKPM_DB_PREFIX || 'bkpm';

function replicaSetInitiated() {
  try {
    return rs.status().ok === 1;
  } catch (error) {
    // Not a member of a set yet (the first start): this node alone, as the services reach it.
    rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'mongodb:27017'}]});
    return false;
  }
}

function ensureServiceUsers() {
  const admin = db.getSiblingDB('admin');
  for (const service of SERVICES) {
    const variable = `MONGO_${service.toUpperCase()}_PASSWORD`;
    const password = process.env[variable];
    if (!password) {
      print(`${variable} is not set: ${service} has no database user`);
      return false;
    }
    if (admin.getUser(service) === null) {
      admin.createUser({user: service, pwd: password, roles: [{role: 'readWrite', db: `${PREFIX}_${service}`}]});
      print(`created the database user ${service} (readWrite on ${PREFIX}_${service})`);
    }
  }
  return true;
}

const healthy = replicaSetInitiated() && db.hello().isWritablePrimary && ensureServiceUsers();
quit(healthy ? 0 : 1);
