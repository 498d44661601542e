// Shapes of the OCI image format (image-spec manifests, indexes, configs) as the factory reads
// them, whether from a registry or from an OCI layout directory.

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type Manifest = { kind: 'index'; index: ImageIndex } | { kind: 'image'; image: ImageManifest };

/** The parts of an image config the factory reads. */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config: {
    Labels?: Record<string, string> | null;
    Env?: string[] | null;
    User?: string;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean }[];
}

/**
 * Content-addressed reads of one image's manifests and blobs. A registry repository and an OCI
 * layout both provide it, so code that reads an image does not care where the build put it.
 */
export interface BlobSource {
  manifest(digest: string): Promise<Manifest>;
  blob(digest: string): Promise<Uint8Array>;
}
