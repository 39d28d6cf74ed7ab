// PLACEHOLDER until the generator writes this file; shape is the contract.
export interface Share {
  tag: string;
  host_path?: string;
  mount_point: string;
  readonly?: boolean;
  owner?: string;
  group?: string;
  mode?: string;
  options?: string;
  state?: "mounted" | "present" | "unmounted" | "absent";
  cache?: "auto" | "always" | "never";
  queue_size?: 16 | 32 | 64 | 128 | 256 | 512 | 1024;
  thread_pool_size?: number;
  xattr?: boolean;
  binary_path?: string;
}
export interface VirtioFsMountArgs {
  mounts: Share[];
  default_owner?: string;
  default_group?: string;
  default_mode?: string;
  default_options?: string;
  create_mount_dirs?: boolean;
  persist?: boolean;
  perform_mounts?: boolean;
  load_module?: boolean;
  prune?: boolean;
  fstab?: string;
  backup?: boolean;
}
export interface VirtioFsInfoArgs {
  fstab?: string;
}
export interface VirtioFsDomainArgs {
  name?: string;
  xml_path?: string;
  uri?: string;
  mounts: Share[];
  libvirt_version?: string;
}
