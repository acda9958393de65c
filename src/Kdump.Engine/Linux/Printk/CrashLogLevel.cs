using System.Globalization;

namespace Kdump.Engine.Linux.Printk;

/// <summary>Syslog level and facility names (as util-linux dmesg spells them) and the -Level filter syntax.</summary>
public static class CrashLogLevel
{
    private static readonly string[] LevelNames = { "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug" };

    private static readonly string[] FacilityNames =
    {
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
        "uucp", "cron", "authpriv", "ftp", "res0", "res1", "res2", "res3",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    };

    /// <summary>All level names, 0 (emerg) to 7 (debug).</summary>
    public static IReadOnlyList<string> Names => LevelNames;

    public static string NameOf(int level) => level is >= 0 and < 8 ? LevelNames[level] : level.ToString(CultureInfo.InvariantCulture);

    public static string FacilityNameOf(int facility) =>
        facility >= 0 && facility < FacilityNames.Length ? FacilityNames[facility] : facility.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses one level: a name (emerg, alert, crit, err, warn, notice, info, debug; also warning, error, panic, 0-7).
    /// Returns -1 when it is not a level.
    /// </summary>
    public static int Parse(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        if (s.Length == 1 && s[0] is >= '0' and <= '7') return s[0] - '0';
        return s switch
        {
            "emerg" or "panic" => 0,
            "alert" => 1,
            "crit" => 2,
            "err" or "error" => 3,
            "warn" or "warning" => 4,
            "notice" => 5,
            "info" => 6,
            "debug" => 7,
            _ => -1,
        };
    }

    /// <summary>
    /// Turns dmesg-style level specifications into the set of levels they select (a bit per level). Each item is a
    /// level name or number (exactly that level), "name+" (that level and every more severe one: "err+" = emerg..err)
    /// or "+name" (that level and every less severe one: "+notice" = notice..debug).
    /// </summary>
    /// <exception cref="KdumpException">LevelInvalid for an item that is not a level.</exception>
    public static byte ParseFilter(IEnumerable<string> items)
    {
        int mask = 0;
        foreach (var raw in items)
        {
            foreach (var part in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                bool upTo = part.EndsWith('+');
                bool from = part.StartsWith('+');
                var name = part.Trim('+');
                int level = Parse(name);
                if (level < 0 || (upTo && from) || name.Length == 0)
                    throw new KdumpException("LevelInvalid", KdumpErrorKind.InvalidArgument,
                        $"'{raw}' is not a log level. Use emerg, alert, crit, err, warn, notice, info, debug or 0-7; " +
                        "'err+' selects err and every more severe level, '+notice' notice and every less severe level.", raw);
                if (upTo) for (int l = 0; l <= level; l++) mask |= 1 << l;
                else if (from) for (int l = level; l < 8; l++) mask |= 1 << l;
                else mask |= 1 << level;
            }
        }
        return (byte)mask;
    }
}
