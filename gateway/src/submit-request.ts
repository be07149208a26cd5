import type { ContainerRuntime, Limits, Priority, RuntimeChoice, SourceFile } from '@crucible/storage/domain';

/**
 * A `POST /v1/evaluations` body (API.md), as schemas.ts validates it. Pure types: the CLI and the
 * status site import it too, so the clients cannot drift from the server.
 */
export interface SubmitRequest {
  language: string;
  code?: string;
  /** The first file is the main one; `encoding` defaults to utf8. */
  files?: (Omit<SourceFile, 'encoding'> & { encoding?: SourceFile['encoding'] })[];
  stdin?: string;
  args?: string[];
  limits?: Partial<Limits>;
  priority?: Priority;
  runtime?: RuntimeChoice;
  /** Container languages: run under runc or gVisor's runsc, where the agents allow it. */
  containerRuntime?: ContainerRuntime;
  metadata?: Record<string, unknown>;
}
