namespace Kdump.Engine.Linux.Modules;

/// <summary>
/// Finds module files under a directory tree (e.g. /lib/modules/&lt;release&gt;): name.ko, name.ko.xz, name.ko.gz,
/// name.ko.zst, with '-' and '_' treated alike (the kernel names "pvpanic-pci.ko" pvpanic_pci). The tree is scanned
/// once, without following symbolic links, and at most <see cref="MaxFiles"/> entries are looked at.
/// </summary>
public sealed class ModuleFileIndex
{
    public const int MaxFiles = 1_000_000;
    private static readonly string[] s_suffixes = { ".ko", ".ko.xz", ".ko.gz", ".ko.zst" };
    private readonly Dictionary<string, string> _byName = new(StringComparer.Ordinal);

    public string Root { get; }
    /// <summary>Module files found.</summary>
    public int Count => _byName.Count;
    /// <summary>True when the scan stopped at <see cref="MaxFiles"/>.</summary>
    public bool Truncated { get; }

    public ModuleFileIndex(string root, CancellationToken cancellation = default)
    {
        if (!Directory.Exists(root))
            throw new KdumpException("ModulePathNotFound", KdumpErrorKind.NotFound, $"The module directory '{root}' does not exist.", root);
        Root = root;
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint,
            ReturnSpecialDirectories = false, MatchType = MatchType.Simple,
        };
        int seen = 0;
        foreach (var path in Directory.EnumerateFiles(root, "*.ko*", options))
        {
            if (++seen > MaxFiles) { Truncated = true; break; }
            if ((seen & 1023) == 0) cancellation.ThrowIfCancellationRequested();
            var file = Path.GetFileName(path);
            foreach (var suffix in s_suffixes)
            {
                if (!file.EndsWith(suffix, StringComparison.Ordinal)) continue;
                var key = Normalize(file[..^suffix.Length]);
                // Prefer an uncompressed .ko, then the shortest path (the kernel/ tree over updates/ copies is not
                // knowable here; keep the first found in a stable order).
                if (!_byName.TryGetValue(key, out var old) || Better(path, old)) _byName[key] = path;
                break;
            }
        }
    }

    private static bool Better(string candidate, string current)
    {
        bool cKo = candidate.EndsWith(".ko", StringComparison.Ordinal), oKo = current.EndsWith(".ko", StringComparison.Ordinal);
        if (cKo != oKo) return cKo;
        return string.CompareOrdinal(candidate, current) < 0;
    }

    public static string Normalize(string moduleName) => moduleName.Replace('-', '_');

    /// <summary>The file for a module name, or null.</summary>
    public string? Find(string moduleName) => _byName.TryGetValue(Normalize(moduleName), out var p) ? p : null;
}
