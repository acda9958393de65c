#requires -Version 7.4
<#
.SYNOPSIS
    Turns platyPS-schema (2.0.0) markdown help pages into one MAML file that Get-Help reads.
.DESCRIPTION
    platyPS is not installable on our machines, so the build converts docs/help/*.md itself. Every page whose
    front matter names an "external help file" becomes a <command:command>; the module page is skipped.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Path,
    [Parameter(Mandatory)] [string] $OutputPath
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

function Split-Sections([string[]] $lines, [string] $prefix) {
    # Returns an ordered dictionary heading -> lines for headings that start with $prefix ('## ' or '### ').
    $result = [ordered]@{}
    $current = $null
    $inFence = $false
    foreach ($l in $lines) {
        if ($l -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $l.StartsWith($prefix) -and -not $l.StartsWith($prefix + '#')) {
            $current = $l.Substring($prefix.Length).Trim()
            $result[$current] = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($null -ne $current) { $result[$current].Add($l) }
    }
    return $result
}

function Get-Paragraphs([System.Collections.Generic.List[string]] $lines) {
    $paras = [System.Collections.Generic.List[string]]::new()
    $buf = [System.Collections.Generic.List[string]]::new()
    $inFence = $false
    foreach ($l in $lines) {
        if ($l -match '^```') { $inFence = -not $inFence; continue }
        if (-not $inFence -and $l.Trim() -eq '') {
            if ($buf.Count) { $paras.Add(($buf -join "`n")); $buf.Clear() }
        } else { $buf.Add($l.TrimEnd()) }
    }
    if ($buf.Count) { $paras.Add(($buf -join "`n")) }
    return , $paras
}

function Esc([string] $s) { [System.Security.SecurityElement]::Escape($s) }
function Para([string] $s) { "<maml:para>$(Esc $s)</maml:para>" }

function Get-Fenced([System.Collections.Generic.List[string]] $lines, [string] $lang) {
    $out = [System.Collections.Generic.List[string]]::new()
    $in = $false; $rest = [System.Collections.Generic.List[string]]::new(); $done = $false
    foreach ($l in $lines) {
        if (-not $done -and $l -match '^```') {
            if ($in) { $in = $false; $done = $true; continue }
            if ($l -match ('^```' + $lang) -or $lang -eq '') { $in = $true; continue }
        }
        if ($in) { $out.Add($l) } elseif ($done -or $out.Count -eq 0) { $rest.Add($l) }
    }
    return @{ Code = ($out -join "`n"); Rest = $rest }
}

$commands = [System.Collections.Generic.List[string]]::new()
foreach ($file in Get-ChildItem $Path -Filter '*.md' | Sort-Object Name) {
    $text = Get-Content -Raw $file.FullName
    if ($text -notmatch '(?m)^external help file:') { continue }   # module page
    $lines = $text -split "`r?`n"
    $name = ($lines | Where-Object { $_ -match '^# ' } | Select-Object -First 1).Substring(2).Trim()
    $verb, $noun = $name.Split('-', 2)
    $sec = Split-Sections $lines '## '
    $synopsis = (Get-Paragraphs $sec['SYNOPSIS']) -join ' '
    $description = Get-Paragraphs $sec['DESCRIPTION']

    # Parameters
    $params = [System.Collections.Generic.List[object]]::new()
    if ($sec.Contains('PARAMETERS')) {
        $ps = Split-Sections $sec['PARAMETERS'] '### '
        foreach ($k in $ps.Keys) {
            if ($k -eq 'CommonParameters') { continue }
            $f = Get-Fenced $ps[$k] 'yaml'
            $meta = @{}
            foreach ($ml in $f.Code -split "`n") { if ($ml -match '^([^:]+):\s*(.*)$') { $meta[$Matches[1].Trim()] = $Matches[2].Trim() } }
            $descLines = [System.Collections.Generic.List[string]]::new()
            foreach ($l in $ps[$k]) { if ($l -match '^```') { break }; $descLines.Add($l) }
            $params.Add([pscustomobject]@{
                Name = $k.TrimStart('-'); Description = Get-Paragraphs $descLines
                Type = $meta['Type']; Sets = "$($meta['Parameter Sets'])"; Aliases = "$($meta['Aliases'])"
                Required = $meta['Required'] -eq 'True'; Position = if ($meta['Position']) { $meta['Position'] } else { 'Named' }
                Default = $meta['Default value']; Pipeline = "$($meta['Accept pipeline input'])"
                Wildcard = $meta['Accept wildcard characters'] -eq 'True'
            })
        }
    }

    $sb = [System.Text.StringBuilder]::new()
    [void]$sb.AppendLine('<command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">')
    [void]$sb.AppendLine("<command:details><command:name>$(Esc $name)</command:name><command:verb>$(Esc $verb)</command:verb><command:noun>$(Esc $noun)</command:noun><maml:description>$(Para $synopsis)</maml:description></command:details>")
    [void]$sb.AppendLine("<maml:description>$(($description | ForEach-Object { Para $_ }) -join '')</maml:description>")

    function ParamXml($p, [bool] $withDesc) {
        $pipe = if ($p.Pipeline -match '^True') { $p.Pipeline } else { 'False' }
        $isSwitch = $p.Type -eq 'SwitchParameter'
        $x = "<command:parameter required=`"$($p.Required.ToString().ToLower())`" variableLength=`"true`" globbing=`"$($p.Wildcard.ToString().ToLower())`" pipelineInput=`"$(Esc $pipe)`" position=`"$(Esc $p.Position)`" aliases=`"$(Esc ($(if ($p.Aliases) { $p.Aliases } else { 'none' })))`">"
        $x += "<maml:name>$(Esc $p.Name)</maml:name>"
        if ($withDesc) { $x += "<maml:description>$(($p.Description | ForEach-Object { Para $_ }) -join '')</maml:description>" }
        if (-not $isSwitch) { $x += "<command:parameterValue required=`"true`" variableLength=`"false`">$(Esc $p.Type)</command:parameterValue>" }
        $x += "<dev:type><maml:name>$(Esc $p.Type)</maml:name><maml:uri /></dev:type>"
        if ($withDesc) { $x += "<dev:defaultValue>$(Esc $(if ($p.Default) { $p.Default } else { 'None' }))</dev:defaultValue>" }
        $x + '</command:parameter>'
    }

    # Syntax: one item per parameter set named under ## SYNTAX (### SetName [(Default)]), else one item.
    [void]$sb.AppendLine('<command:syntax>')
    $sets = @()
    if ($sec.Contains('SYNTAX')) { $sets = @((Split-Sections $sec['SYNTAX'] '### ').Keys | ForEach-Object { ($_ -replace '\s*\(Default\)', '').Trim() }) }
    if (-not $sets) { $sets = @('__AllParameterSets') }
    foreach ($s in $sets) {
        [void]$sb.Append("<command:syntaxItem><maml:name>$(Esc $name)</maml:name>")
        foreach ($p in $params) {
            $inSet = $p.Sets -eq '' -or $p.Sets -match '\(All\)' -or $s -eq '__AllParameterSets' -or (($p.Sets -split ',\s*') -contains $s)
            if ($inSet) { [void]$sb.Append((ParamXml $p $false)) }
        }
        [void]$sb.AppendLine('</command:syntaxItem>')
    }
    [void]$sb.AppendLine('</command:syntax>')

    [void]$sb.AppendLine('<command:parameters>')
    foreach ($p in $params) { [void]$sb.AppendLine((ParamXml $p $true)) }
    [void]$sb.AppendLine('</command:parameters>')

    foreach ($pair in @(@('INPUTS', 'inputTypes', 'inputType'), @('OUTPUTS', 'returnValues', 'returnValue'))) {
        [void]$sb.Append("<command:$($pair[1])>")
        if ($sec.Contains($pair[0])) {
            $ts = Split-Sections $sec[$pair[0]] '### '
            foreach ($k in $ts.Keys) {
                [void]$sb.Append("<command:$($pair[2])><dev:type><maml:name>$(Esc $k)</maml:name></dev:type><maml:description>$(((Get-Paragraphs $ts[$k]) | ForEach-Object { Para $_ }) -join '')</maml:description></command:$($pair[2])>")
            }
        }
        [void]$sb.AppendLine("</command:$($pair[1])>")
    }

    if ($sec.Contains('NOTES')) {
        [void]$sb.AppendLine("<maml:alertSet><maml:alert>$(((Get-Paragraphs $sec['NOTES']) | ForEach-Object { Para $_ }) -join '')</maml:alert></maml:alertSet>")
    }

    [void]$sb.AppendLine('<command:examples>')
    if ($sec.Contains('EXAMPLES')) {
        $ex = Split-Sections $sec['EXAMPLES'] '### '
        foreach ($k in $ex.Keys) {
            $f = Get-Fenced $ex[$k] ''
            $remarks = Get-Paragraphs $f.Rest
            [void]$sb.AppendLine("<command:example><maml:title>-------------------------- $(Esc $k) --------------------------</maml:title><dev:code>$(Esc $f.Code)</dev:code><dev:remarks>$(($remarks | ForEach-Object { Para $_ }) -join '')</dev:remarks></command:example>")
        }
    }
    [void]$sb.AppendLine('</command:examples>')

    [void]$sb.Append('<command:relatedLinks>')
    if ($sec.Contains('RELATED LINKS')) {
        foreach ($l in $sec['RELATED LINKS']) {
            if ($l -match '^\[([^\]]+)\]\(([^)]*)\)') { [void]$sb.Append("<maml:navigationLink><maml:linkText>$(Esc $Matches[1])</maml:linkText><maml:uri>$(Esc $Matches[2])</maml:uri></maml:navigationLink>") }
        }
    }
    [void]$sb.AppendLine('</command:relatedLinks>')
    [void]$sb.AppendLine('</command:command>')
    $commands.Add($sb.ToString())
}

$xml = "<?xml version=`"1.0`" encoding=`"utf-8`"?>`n<helpItems schema=`"maml`" xmlns=`"http://msh`">`n" + ($commands -join "`n") + "`n</helpItems>`n"
[void][xml]$xml   # fail the build on malformed output
Set-Content -Path $OutputPath -Value $xml -Encoding utf8NoBOM
Write-Host "Help: $($commands.Count) cmdlet pages -> $OutputPath"
