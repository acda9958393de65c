namespace Kdump.Engine.Config;

/// <summary>Every configuration file kdump cares about on one host, loaded once (and cloned for what-if edits).</summary>
internal sealed class ConfigSnapshot
{
    public const int MaxBootEntries = 1000;
    public const int MaxDropIns = 256;

    public const string KdumpConfPath = "/etc/kdump.conf";
    public const string KdumpToolsPath = "/etc/default/kdump-tools";
    public const string SysconfigPath = "/etc/sysconfig/kdump";
    public const string GrubDefaultPath = "/etc/default/grub";
    public const string GrubDropInDir = "/etc/default/grub.d";
    public const string BlsDir = "/boot/loader/entries";
    public static readonly string[] GrubLegacyPaths = ["/boot/grub/grub.conf", "/boot/grub/menu.lst"];

    public HostRoot Host { get; }
    public ConfigText? KdumpConf { get; private init; }
    public ConfigText? KdumpTools { get; private init; }
    public ConfigText? Sysconfig { get; private init; }
    public ConfigText? GrubDefault { get; private init; }
    public List<ConfigText> GrubDropIns { get; private init; } = [];
    public List<ConfigText> BlsEntries { get; private init; } = [];
    public ConfigText? GrubLegacy { get; private init; }
    /// <summary>GRUB's environment block (RHEL 8 BLS entries take $kernelopts from it).</summary>
    public ConfigText? GrubEnvironment { get; private init; }

    private ConfigSnapshot(HostRoot host) { Host = host; }

    public IEnumerable<ConfigText> All()
    {
        foreach (var t in new[] { KdumpConf, KdumpTools, Sysconfig, GrubDefault }) if (t is not null) yield return t;
        foreach (var t in GrubDropIns) yield return t;
        foreach (var t in BlsEntries) yield return t;
        if (GrubLegacy is not null) yield return GrubLegacy;
        if (GrubEnvironment is not null) yield return GrubEnvironment;
    }

    public KdumpConfigFlavor Flavor =>
        KdumpConf is not null ? KdumpConfigFlavor.RedHat
        : KdumpTools is not null ? KdumpConfigFlavor.Debian
        : Sysconfig is not null && ConfigParsers.ParseShell(Sysconfig).Any(a => a.Name is "KDUMP_SAVEDIR" or "KDUMP_DUMPLEVEL" or "KDUMP_DUMPFORMAT") ? KdumpConfigFlavor.Suse
        : KdumpConfigFlavor.None;

    public ConfigText? MainFile => Flavor switch
    {
        KdumpConfigFlavor.RedHat => KdumpConf,
        KdumpConfigFlavor.Debian => KdumpTools,
        KdumpConfigFlavor.Suse => Sysconfig,
        _ => null,
    };

    public static ConfigSnapshot Load(HostRoot host) => new(host)
    {
        KdumpConf = LoadIf(host, KdumpConfPath),
        KdumpTools = LoadIf(host, KdumpToolsPath),
        Sysconfig = LoadIf(host, SysconfigPath),
        GrubDefault = LoadIf(host, GrubDefaultPath),
        GrubDropIns = LoadDir(host, GrubDropInDir, "*.cfg", MaxDropIns),
        BlsEntries = LoadDir(host, BlsDir, "*.conf", MaxBootEntries),
        GrubLegacy = GrubLegacyPaths.Select(p => LoadIf(host, p)).FirstOrDefault(t => t is not null),
        GrubEnvironment = GrubEnv.Paths.Select(p => LoadIf(host, p)).FirstOrDefault(t => t is not null),
    };

    public ConfigSnapshot Clone() => new(Host)
    {
        KdumpConf = KdumpConf?.Clone(),
        KdumpTools = KdumpTools?.Clone(),
        Sysconfig = Sysconfig?.Clone(),
        GrubDefault = GrubDefault?.Clone(),
        GrubDropIns = GrubDropIns.Select(t => t.Clone()).ToList(),
        BlsEntries = BlsEntries.Select(t => t.Clone()).ToList(),
        GrubLegacy = GrubLegacy?.Clone(),
        GrubEnvironment = GrubEnvironment?.Clone(),
    };

    /// <summary>A file under the root, read through its real path (links resolved inside the root); null when absent.</summary>
    private static ConfigText? LoadIf(HostRoot host, string systemPath)
    {
        string real = host.Real(systemPath);
        return File.Exists(real) ? ConfigText.Load(systemPath, host.Resolve(systemPath), real) : null;
    }

    private static List<ConfigText> LoadDir(HostRoot host, string systemDir, string pattern, int max)
    {
        string full = host.Resolve(systemDir);
        string real = host.Real(systemDir);
        if (!Directory.Exists(real)) return [];
        var names = Directory.EnumerateFiles(real, pattern).Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).Take(max + 1).ToList();
        if (names.Count > max)
            throw new KdumpException("ConfigFileLimitExceeded", KdumpErrorKind.LimitExceeded,
                $"{full} holds more than {max} files matching {pattern}.", full);
        var list = new List<ConfigText>();
        foreach (string name in names)
        {
            string systemPath = systemDir + "/" + name;
            string file = host.Real(systemPath);
            if (File.Exists(file)) list.Add(ConfigText.Load(systemPath, Path.Combine(full, name), file));
        }
        return list;
    }
}
