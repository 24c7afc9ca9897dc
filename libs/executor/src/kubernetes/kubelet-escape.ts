/**
 * The kubelet expands `$(NAME)` to the value of an earlier variable and turns `$$` into `$` in
 * a container's command, args and env values (k8s.io/kubernetes third_party/forked/golang/
 * expansion). Doubling every `$` makes the kubelet hand the original text to the process byte
 * for byte: `$$` becomes `$`, so no `$(` is left for it to expand.
 */
export function escapeForKubelet(value: string): string {
  return value.replaceAll('$', '$$$$');
}
