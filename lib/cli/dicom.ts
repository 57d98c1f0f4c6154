import { Command } from 'commander';
import { dicomInfo, type DicomInfo } from '../data/dicom/info';

function printInfo(info: DicomInfo): void {
  const line = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') console.log(`${name.padEnd(16)}${value}`);
  };
  line('file', info.file);
  line('transfer syntax', `${info.transferSyntaxName} (${info.transferSyntax})`);
  line('image', `${info.width}x${info.height}, ${info.frames} frame(s), ${info.samplesPerPixel} sample(s), ${info.photometric}`);
  line('bits', `${info.bitsStored} stored of ${info.bitsAllocated} allocated`);
  line('patient', info.patientKey ? `${info.patientKey} (salted hash of PatientID)` : 'no PatientID');
  line('modality', info.modality);
  line('body part', info.bodyPart);
  line('view', info.viewPosition);
  line('age group', info.ageGroup);
  line('manufacturer', [info.manufacturer, info.model].filter(Boolean).join(' '));
  line('station', info.stationName);
  console.log('pipeline');
  info.pipeline.forEach((step, i) => console.log(`  ${i + 1}. ${step}`));
  for (const w of info.warnings) console.log(`warning: ${w}`);
}

export function register(program: Command): void {
  const dicom = program.command('dicom').description('DICOM files: what the toolkit reads from them');
  dicom
    .command('info')
    .description('safe header fields (no patient name, birth date, accession or institution) and the exact pixel pipeline applied')
    .argument('<file>', 'DICOM file')
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: { json?: boolean }) => {
      const info = await dicomInfo(file);
      if (flags.json) console.log(JSON.stringify(info, null, 2));
      else printInfo(info);
    });
}
