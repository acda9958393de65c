namespace Kdump.Engine.Config;

public static partial class KdumpConfigEditor
{
    // ---- /etc/kdump.conf ----------------------------------------------------------------------------------------

    private static void EditKdumpConf(ConfigSnapshot s, ConfigText t, KdumpConfigUpdate u, EditSession session)
    {
        string? newTargetType = null;
        if (u.Target is not null) newTargetType = SetKdumpConfTarget(t, u.Target, session);
        if (u.Path is not null) SetKdumpConfDirective(t, "path", u.Path, session, "path");
        if (u.FailureAction is not null)
        {
            var lines = ConfigParsers.ParseKdumpConf(t);
            if (!lines.Any(l => l.Name == "failure_action") && lines.LastOrDefault(l => l.Name == "default") is { } def)
            {
                // replace the obsolete alias by its current name
                string line = t.Lines[def.Index];
                int nameStart = line.Length - line.TrimStart().Length;
                session.Set(t, def.Index, line[..nameStart] + "failure_action " + ConfigText.Encode(u.FailureAction) + line[def.ValueEnd..], "failure_action");
            }
            else SetKdumpConfDirective(t, "failure_action", u.FailureAction, session, "failure_action");
        }
        if (u.FinalAction is not null) SetKdumpConfDirective(t, "final_action", u.FinalAction, session, "final_action");

        if (u.CoreCollector is not null || u.Compression is not null || u.DumpLevel is not null)
        {
            var existing = ConfigParsers.ParseKdumpConf(t).LastOrDefault(l => l.Name == "core_collector");
            string current = u.CoreCollector ?? (existing is not null
                ? ConfigText.Decode(t.Lines[existing.Index][existing.ValueStart..existing.ValueEnd])
                : (newTargetType ?? KdumpConfigReader.Read(s).Target.Type) is "ssh" or "raw" ? MakedumpfileOptions.RedHatFlattenedDefault : MakedumpfileOptions.RedHatDefault);
            string value = ApplyCollectorOptions(current, u);
            SetKdumpConfDirective(t, "core_collector", value, session, "core_collector");
        }
    }

    private static string ApplyCollectorOptions(string commandLine, KdumpConfigUpdate u)
    {
        if ((u.Compression is not null || u.DumpLevel is not null) && !MakedumpfileOptions.Decode(commandLine).IsMakedumpfile)
            throw new KdumpException("CoreCollectorNotMakedumpfile", KdumpErrorKind.InvalidArgument,
                $"-Compression and -DumpLevel change makedumpfile options, but the core collector is '{commandLine}'.", commandLine);
        string v = commandLine;
        if (u.Compression is { } c) v = MakedumpfileOptions.WithCompression(v, c);
        if (u.DumpLevel is { } d) v = MakedumpfileOptions.WithDumpLevel(v, d);
        return v;
    }

    /// <summary>Sets the value of the (last) active line of an option, keeping indentation and trailing comment; appends when absent.</summary>
    private static void SetKdumpConfDirective(ConfigText t, string name, string value, EditSession session, string setting)
    {
        if (value.Contains('#') || value.Contains('\n') || value.Contains('\r'))
            throw new KdumpException("KdumpConfigValueInvalid", KdumpErrorKind.InvalidArgument, $"A {name} value cannot contain '#' or a line break.", value);
        string raw = ConfigText.Encode(value.Trim());
        var line = ConfigParsers.ParseKdumpConf(t).LastOrDefault(l => l.Name == name);
        if (line is not null)
        {
            string text = t.Lines[line.Index];
            string sep = line.ValueStart > line.ValueEnd || line.ValueEnd == line.ValueStart && !text[..line.ValueStart].EndsWith(' ') ? " " : "";
            session.Set(t, line.Index, text[..line.ValueStart] + sep + raw + text[line.ValueEnd..], setting);
        }
        else session.Insert(t, t.Lines.Count, name + " " + raw, setting);
    }

    /// <summary>Replaces the target line (the first; further ones are commented out). Returns the new target type.</summary>
    private static string SetKdumpConfTarget(ConfigText t, string target, EditSession session)
    {
        var words = target.Trim().Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
        string type = words.Length > 0 ? words[0] : "";
        var lines = ConfigParsers.ParseKdumpConf(t);
        var existing = lines.Where(KdumpConfigReader.IsTarget).ToList();
        if (type == "local")
        {
            foreach (var l in existing) session.Set(t, l.Index, "#" + t.Lines[l.Index], "target");
            return "local";
        }
        if (!KdumpConfigReader.TargetDirectives.Contains(type) || words.Length < 2 || target.Contains('#') || target.Contains('\n'))
            throw new KdumpException("TargetInvalid", KdumpErrorKind.InvalidArgument,
                $"'{target}' is not a kdump target; write '<type> <location>' with type one of {string.Join(", ", KdumpConfigReader.TargetDirectives.Order())}, or 'local'.", target);
        string raw = ConfigText.Encode(type + " " + words[1].Trim());
        if (existing.Count == 0) { session.Insert(t, t.Lines.Count, raw, "target"); return type; }
        var first = existing[0];
        string text = t.Lines[first.Index];
        int indent = text.Length - text.TrimStart().Length;
        session.Set(t, first.Index, text[..indent] + raw + text[first.ValueEnd..], "target");
        foreach (var l in existing.Skip(1)) session.Set(t, l.Index, "#" + t.Lines[l.Index], "target");
        return type;
    }

    // ---- /etc/default/kdump-tools -------------------------------------------------------------------------------

    private static void EditKdumpTools(ConfigText t, KdumpConfigUpdate u, EditSession session)
    {
        if (u.FinalAction is not null)
            throw new KdumpException("SettingNotSupported", KdumpErrorKind.NotSupported, "kdump-tools always reboots after the dump; it has no final action setting.", "FinalAction");
        if (u.Path is not null) SetShellVar(t, "KDUMP_COREDIR", u.Path, session, "KDUMP_COREDIR");
        if (u.FailureAction is { } fa)
        {
            string cmd = fa switch
            {
                "reboot" => "reboot -f",
                "halt" => "halt -f",
                "poweroff" => "poweroff -f",
                _ => throw new KdumpException("SettingNotSupported", KdumpErrorKind.NotSupported,
                    $"kdump-tools runs a command when saving fails (KDUMP_FAIL_CMD); '{fa}' has no equivalent. Use reboot, halt or poweroff.", fa),
            };
            SetShellVar(t, "KDUMP_FAIL_CMD", cmd, session, "KDUMP_FAIL_CMD");
        }
        if (u.Target is not null) SetDebianTarget(t, u.Target, session);
        if (u.CoreCollector is not null || u.Compression is not null || u.DumpLevel is not null)
        {
            string? args = u.CoreCollector is { } cc ? StripMakedumpfile(cc) : null;
            var existing = KdumpConfigReader.LastAssignments(t).GetValueOrDefault("MAKEDUMP_ARGS");
            string baseArgs = args ?? (existing is not null ? RawInner(t, existing) : MakedumpfileOptions.DebianDefaultArgs);
            string edited = ApplyCollectorOptions("makedumpfile " + baseArgs, u)["makedumpfile ".Length..];
            if (existing is not null && args is null && existing.Quote != '\'') SetShellVarRaw(t, existing, edited, session, "MAKEDUMP_ARGS");
            else SetShellVar(t, "MAKEDUMP_ARGS", ConfigText.Decode(edited), session, "MAKEDUMP_ARGS");
        }
    }

    private static string StripMakedumpfile(string commandLine)
    {
        var words = MakedumpfileOptions.Split(commandLine);
        if (words.Count == 0 || System.IO.Path.GetFileName(words[0].Text) != "makedumpfile")
            throw new KdumpException("SettingNotSupported", KdumpErrorKind.NotSupported,
                $"kdump-tools always runs makedumpfile; give -CoreCollector as 'makedumpfile <options>' (got '{commandLine}').", commandLine);
        return ConfigText.Encode(commandLine[(words[0].Start + words[0].Length)..].Trim());
    }

    private static void SetDebianTarget(ConfigText t, string target, EditSession session)
    {
        var words = target.Trim().Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
        string type = words.Length > 0 ? words[0] : "";
        string? keep = type switch
        {
            "ssh" => "SSH",
            "nfs" => "NFS",
            "ftp" => "FTP",
            "local" => null,
            _ => throw new KdumpException("TargetNotSupported", KdumpErrorKind.NotSupported,
                $"kdump-tools writes locally (KDUMP_COREDIR) or to SSH, NFS or FTP; '{target}' is not one of those. Use 'local', 'ssh user@host', 'nfs host:/export' or 'ftp host:/path'.", target),
        };
        if (keep is not null && words.Length < 2)
            throw new KdumpException("TargetInvalid", KdumpErrorKind.InvalidArgument, $"'{target}' has no location.", target);
        var vars = KdumpConfigReader.LastAssignments(t);
        foreach (string v in new[] { "SSH", "NFS", "FTP" })
            if (v != keep && vars.TryGetValue(v, out var a) && a.Value.Length > 0)
                session.Set(t, a.Index, "#" + t.Lines[a.Index], "target");
        if (keep is not null) SetShellVar(t, keep, words[1].Trim(), session, "target");
    }

    internal static string RawInner(ConfigText t, ShellAssignment a)
    {
        string line = t.Lines[a.Index];
        if (a.Quote == '\0') return line[a.ValueStart..a.ValueEnd];
        int end = a.ValueEnd > a.ValueStart + 1 && line[a.ValueEnd - 1] == a.Quote ? a.ValueEnd - 1 : a.ValueEnd;
        return line[(a.ValueStart + 1)..end];
    }

    /// <summary>Replaces the raw text inside the quotes of an assignment (no re-quoting: $VAR references survive).</summary>
    private static void SetShellVarRaw(ConfigText t, ShellAssignment a, string rawInner, EditSession session, string setting)
    {
        string line = t.Lines[a.Index];
        string value = a.Quote == '\0'
            ? (rawInner.Any(char.IsWhiteSpace) ? "\"" + rawInner + "\"" : rawInner)
            : a.Quote + rawInner + a.Quote;
        session.Set(t, a.Index, line[..a.ValueStart] + value + line[a.ValueEnd..], setting);
    }

    /// <summary>Sets a shell variable: the last assignment's value in its quote style, or a new line after its commented example.</summary>
    private static void SetShellVar(ConfigText t, string name, string value, EditSession session, string setting)
    {
        if (value.Contains('\n') || value.Contains('\r'))
            throw new KdumpException("KdumpConfigValueInvalid", KdumpErrorKind.InvalidArgument, $"A {name} value cannot contain a line break.", value);
        var a = KdumpConfigReader.LastAssignments(t).GetValueOrDefault(name);
        if (a is not null)
        {
            if (a.Value == value) return;
            string line = t.Lines[a.Index];
            session.Set(t, a.Index, line[..a.ValueStart] + ConfigText.Encode(ConfigParsers.ShellQuote(value, a.Quote)) + line[a.ValueEnd..], setting);
            return;
        }
        string newLine = name + "=" + ConfigText.Encode(ConfigParsers.ShellQuote(value, '"'));
        int example = t.Lines.FindLastIndex(l => l.StartsWith("#" + name + "=", StringComparison.Ordinal));
        session.Insert(t, example >= 0 ? example + 1 : t.Lines.Count, newLine, setting);
    }
}
