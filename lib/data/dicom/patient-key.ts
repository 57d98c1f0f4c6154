import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDir } from '../../paths';

const SALT_FILE = 'patient-id-salt';
let salt: string | undefined;

/**
 * The secret that patient ids are hashed with: `CXR_PATIENT_SALT`, else a random one made once and
 * kept in the cache folder (so the same patient gets the same key in every run on this machine).
 * Set `CXR_PATIENT_SALT` to the same value on machines that must share split files.
 */
function patientSalt(): string {
  if (process.env.CXR_PATIENT_SALT) return process.env.CXR_PATIENT_SALT;
  if (salt) return salt;
  const file = cacheDir(SALT_FILE);
  try {
    salt = fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      // `wx`: when two processes start at once, the first one's salt wins and the other reads it.
      fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    salt = fs.readFileSync(file, 'utf8').trim();
  }
  return salt;
}

/**
 * A patient key for a DICOM PatientID: a salted HMAC, so images of one patient group together while
 * the id itself (often a hospital record number, easy to guess) never leaves lib/data.
 * @example patientKey('12345678') // 'dicom:3f9a0c5e7b21d4a8'
 */
export function patientKey(patientId: string): string {
  return `dicom:${crypto.createHmac('sha256', patientSalt()).update(patientId.trim()).digest('hex').slice(0, 16)}`;
}
