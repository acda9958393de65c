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

    private ConfigSnapshot(HostRoot host) { Host = host; }

    public IEnumerable<ConfigText> All()
    {
        foreach (var t in new[] { KdumpConf, KdumpTools, Sysconfig, GrubDefault }) if (t is not null) yield return t;
        foreach (var t in GrubDropIns) yield return t;
        foreach (var t in BlsEntries) yield return t;
        if (GrubLegacy is not null) yield return GrubLegacy;
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
    };

    private static ConfigText? LoadIf(HostRoot host, string systemPath)
    {
        string full = host.Resolve(systemPath);
        return File.Exists(full) ? ConfigText.Load(systemPath, full) : null;
    }

    private static List<ConfigText> LoadDir(HostRoot host, string systemDir, string pattern, int max)
    {
        string full = host.Resolve(systemDir);
        if (!Directory.Exists(full)) return [];
        var files = Directory.EnumerateFiles(full, pattern).Order(StringComparer.Ordinal).Take(max + 1).ToList();
        if (files.Count > max)
            throw new KdumpException("ConfigFileLimitExceeded", KdumpErrorKind.LimitExceeded,
                $"{full} holds more than {max} files matching {pattern}.", full);
        return files.Select(f => ConfigText.Load(systemDir + "/" + Path.GetFileName(f), f)).ToList();
    }
}
