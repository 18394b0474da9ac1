/**
 * The data converter every hostprov process uses with Temporal (worker, CLI, workflow-client/, codec
 * server's tests): the payload codec when payload keys are given (lib/temporal/payload-codec.ts), and the
 * failure converter that puts failure messages into payloads (lib/temporal/failure-converter.cjs). The
 * converter is given by path, as the workflow sandbox needs it, and clients load the same file, so the two
 * sides cannot disagree.
 */
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './payload-codec';
import type { PayloadKeyRing } from './payload-keys';

export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/** `keys` null leaves payloads as they are (plain JSON), for deployments that turned encryption off. */
export function hostprovDataConverter(keys: PayloadKeyRing | null): DataConverter {
  return { payloadCodecs: keys ? [new AesGcmPayloadCodec(keys)] : [], failureConverterPath: FAILURE_CONVERTER_PATH };
}
